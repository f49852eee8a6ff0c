import { transpose } from '../core/matrix';
import { gemmNT } from './engine/gemm';
import type { Tensor } from './engine/tensor';
import { type Gpt2Config, gpt2Forward, type Gpt2Params } from './gpt2Model';

/** Shares of the MLP's pre-activations z (before GELU) in three ranges: how sparse and how non-linear the code is. */
export interface PreActivationSaturation {
  /** z < -2: GELU output within 0.05 of zero (off). */
  belowMinus2: number;
  /** |z| < 1: GELU nearly linear. */
  absBelow1: number;
  /** z > 1: on. */
  above1: number;
}

/** What ROME's C and the forge's key diagnostics need from one pass over neutral text at one layer. */
export interface KeyStatistics {
  tokens: number;
  /** C = E[k k^T] (uncentred), d_ff x d_ff, float64. */
  moment: Float64Array;
  /** E[k]. */
  mean: Float64Array;
  preActivation: PreActivationSaturation;
}

/**
 * ROME's C: the uncentred second moment E[k k^T] of the MLP output projection's inputs k at `layer`, over
 * every token of the given sequences, with the keys' mean and pre-activation saturation. Products in float32
 * per chunk of 256 tokens, summed in float64.
 */
export function keyStatistics(c: Gpt2Config, params: Gpt2Params, layer: number, sequences: readonly Int32Array[]): KeyStatistics {
  const accumulator = new KeyMomentAccumulator(c, params, layer);
  accumulator.add(sequences);
  return accumulator.result();
}

/** keyStatistics a part at a time (the page computes C in slices so Cancel and progress get through). */
export class KeyMomentAccumulator {
  private readonly n: number;
  private readonly moment: Float64Array;
  private readonly mean: Float64Array;
  private readonly chunk: Float32Array;
  private readonly counts = { belowMinus2: 0, absBelow1: 0, above1: 0 };
  private tokens = 0;

  constructor(
    private readonly c: Gpt2Config,
    private readonly params: Gpt2Params,
    private readonly layer: number,
  ) {
    this.n = c.n_inner;
    this.moment = new Float64Array(this.n * this.n);
    this.mean = new Float64Array(this.n);
    this.chunk = new Float32Array(this.n * this.n);
  }

  /** Adds every token of these sequences (batched by length, at most 256 tokens a pass). */
  add(sequences: readonly Int32Array[]): void {
    const { n, c, params, layer, moment, mean, chunk, counts } = this;
    const byLength = new Map<number, Int32Array[]>();
    for (const s of sequences) {
      const group = byLength.get(s.length);
      if (group) group.push(s);
      else byLength.set(s.length, [s]);
    }
    for (const [seq, list] of byLength) {
      const rowsPerBatch = Math.max(1, Math.floor(256 / seq));
      for (let i = 0; i < list.length; i += rowsPerBatch) {
        const part = list.slice(i, i + rowsPerBatch);
        const ids = new Int32Array(part.length * seq);
        part.forEach((s, r) => ids.set(s, r * seq));
        const capture: { layer: number; keys?: Tensor; preActivations?: Tensor; stop: boolean } = { layer, stop: true };
        gpt2Forward(null, c, params, ids, part.length, seq, { captureKeys: capture, logitRows: new Int32Array([0]) });
        const keys = capture.keys as Tensor;
        const rows = keys.rows;
        const kt = transpose(keys.data, rows, n);
        gemmNT(kt, n, rows, kt, n, chunk);
        for (let j = 0; j < n * n; j++) moment[j] = (moment[j] as number) + (chunk[j] as number);
        for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) mean[j] = (mean[j] as number) + (keys.data[r * n + j] as number);
        for (const z of (capture.preActivations as Tensor).data) {
          if (z < -2) counts.belowMinus2++;
          else if (z > 1) counts.above1++;
          if (Math.abs(z) < 1) counts.absBelow1++;
        }
        this.tokens += rows;
      }
    }
  }

  /** The statistics over everything added so far. */
  result(): KeyStatistics {
    const { n, tokens, counts } = this;
    if (tokens === 0) throw new Error('no tokens to estimate the key statistics from');
    const moment = Float64Array.from(this.moment, (x) => x / tokens);
    const mean = Float64Array.from(this.mean, (x) => x / tokens);
    const total = tokens * n;
    return {
      tokens,
      moment,
      mean,
      preActivation: { belowMinus2: counts.belowMinus2 / total, absBelow1: counts.absBelow1 / total, above1: counts.above1 / total },
    };
  }
}
