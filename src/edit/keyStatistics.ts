import { transpose } from '../core/matrix';
import { gemmNT } from './engine/gemm';
import { type Gpt2Config, gpt2Forward, type Gpt2Params } from './gpt2Model';

/**
 * ROME's C: the uncentred second moment E[k k^T] of the MLP output projection's inputs k at `layer`, over
 * every token of the given sequences. Products in float32 per chunk of 256 tokens, summed in float64.
 */
export function keySecondMoment(c: Gpt2Config, params: Gpt2Params, layer: number, sequences: readonly Int32Array[]): { moment: Float64Array; tokens: number } {
  const n = c.n_inner;
  const moment = new Float64Array(n * n);
  const chunk = new Float32Array(n * n);
  let tokens = 0;
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
      const capture: { layer: number; keys?: import('./engine/tensor').Tensor } = { layer };
      gpt2Forward(null, c, params, ids, part.length, seq, { captureKeys: capture, logitRows: new Int32Array([0]) });
      const keys = capture.keys as import('./engine/tensor').Tensor;
      const rows = keys.rows;
      const kt = transpose(keys.data, rows, n);
      gemmNT(kt, n, rows, kt, n, chunk);
      for (let j = 0; j < n * n; j++) moment[j] = (moment[j] as number) + (chunk[j] as number);
      tokens += rows;
    }
  }
  for (let j = 0; j < n * n; j++) moment[j] = (moment[j] as number) / tokens;
  return { moment, tokens };
}
