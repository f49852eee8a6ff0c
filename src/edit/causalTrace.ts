import { SeededRandom } from '../core/random';
import * as ops from './engine/ops';
import type { Tensor } from './engine/tensor';
import { type Gpt2Config, gpt2Forward, type Gpt2Params } from './gpt2Model';

/** One traced prompt: token ids, the subject's token span [from, to), and the object token. */
export interface TracePrompt {
  ids: Int32Array;
  subjectFrom: number;
  subjectTo: number;
  object: number;
}

/** Where restoring one clean hidden state recovers the object's probability, averaged over prompts. */
export interface TraceTable {
  prompts: number;
  cleanProbability: number;
  corruptedProbability: number;
  /** recovered[layer] = [subject's last token, earlier subject tokens, last position, other positions]. */
  recovered: number[][];
}

/**
 * Causal tracing (Meng et al. 2022): the subject's embeddings get Gaussian noise (3 x the embedding scale);
 * then the residual stream after one layer at one position is restored from the clean run. The recovered
 * probability of the object, minus the corrupted one, measures how much of the fact that state carries.
 */
export function causalTrace(c: Gpt2Config, params: Gpt2Params, prompts: readonly TracePrompt[], seed: number): TraceTable {
  const rng = new SeededRandom(seed);
  const wte = params.get('transformer.wte.weight') as Tensor;
  const embeddingScale = Math.sqrt(wte.data.reduce((a, x) => a + x * x, 0) / wte.size);
  const d = c.n_embd;
  const L = c.n_layer;
  const sums = Array.from({ length: L }, () => [0, 0, 0, 0]);
  const counts = [0, 0, 0, 0];
  let clean = 0;
  let corrupted = 0;
  const probability = (ids: Int32Array, object: number, options: Parameters<typeof gpt2Forward>[6]) => {
    const logits = gpt2Forward(null, c, params, ids, 1, ids.length, { ...options, logitRows: Int32Array.from([ids.length - 1]) });
    return Math.exp(ops.logSoftmax(null, logits).data[object] as number);
  };
  for (const p of prompts) {
    const T = p.ids.length;
    const states: Float32Array[] = [];
    for (let layer = 0; layer < L; layer++) {
      const capture: { layer: number; residual?: Tensor } = { layer };
      gpt2Forward(null, c, params, p.ids, 1, T, { captureResidual: capture });
      states.push((capture.residual as Tensor).data);
    }
    const noise = { row: p.subjectFrom, values: Float32Array.from({ length: (p.subjectTo - p.subjectFrom) * d }, () => rng.gaussian() * 3 * embeddingScale) };
    const pClean = probability(p.ids, p.object, {});
    const pCorrupted = probability(p.ids, p.object, { embeddingNoise: noise });
    clean += pClean;
    corrupted += pCorrupted;
    for (let t = 0; t < T; t++) {
      const kind = t === p.subjectTo - 1 ? 0 : t >= p.subjectFrom && t < p.subjectTo - 1 ? 1 : t === T - 1 ? 2 : 3;
      counts[kind] = (counts[kind] as number) + 1;
      for (let layer = 0; layer < L; layer++) {
        const value = (states[layer] as Float32Array).slice(t * d, (t + 1) * d);
        const pRestored = probability(p.ids, p.object, { embeddingNoise: noise, patchResidual: { layer, row: t, value } });
        (sums[layer] as number[])[kind] = ((sums[layer] as number[])[kind] as number) + pRestored - pCorrupted;
      }
    }
  }
  const n = Math.max(1, prompts.length);
  return {
    prompts: prompts.length,
    cleanProbability: clean / n,
    corruptedProbability: corrupted / n,
    recovered: sums.map((row) => row.map((s, k) => s / Math.max(1, counts[k] as number))),
  };
}
