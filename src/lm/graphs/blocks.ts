import type { GraphBuilder } from '../onnx/graphBuilder';

/** Pieces shared by the family graph builders (ONNX opset 17). */

/** y = x W + b for W stored [in, out] (GPT-2's Conv1D layout); `bias` may be absent. */
export function linear(g: GraphBuilder, x: string, weight: string, bias?: string): string {
  const y = g.op('MatMul', [x, weight]);
  return bias ? g.op('Add', [y, bias]) : y;
}

export function layerNorm(g: GraphBuilder, x: string, scale: string, bias: string, epsilon: number): string {
  return g.op('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: { float: epsilon } });
}

/** [seq, seq] additive causal mask (0 on and below the diagonal, -1e9 above), cut from an [n, n] constant. */
export function causalMask(g: GraphBuilder, ids: string, maxPositions: number): string {
  const full = new Float32Array(maxPositions * maxPositions);
  for (let i = 0; i < maxPositions; i++) for (let j = i + 1; j < maxPositions; j++) full[i * maxPositions + j] = -1e9;
  const table = g.weight('causal_mask_table', [maxPositions, maxPositions], full);
  const seq = g.op('Shape', [ids], { start: 1, end: 2 });
  const ends = g.op('Concat', [seq, seq], { axis: 0 });
  return g.op('Slice', [table, g.constInt64([0, 0]), ends, g.constInt64([0, 1])]);
}

/** [b, s, heads * hd] -> [b, heads, s, hd] (or [b, heads, hd, s] when `keys` for Q K^T). */
export function splitHeads(g: GraphBuilder, x: string, heads: number, headDim: number, keys = false): string {
  const r = g.op('Reshape', [x, g.constInt64([0, 0, heads, headDim])]);
  return g.op('Transpose', [r], { perm: keys ? [0, 2, 3, 1] : [0, 2, 1, 3] });
}

/** softmax(Q K^T / sqrt(hd) + mask) V, heads merged back to [b, s, heads * hd]. kT is [b, h, hd, s]. */
export function attend(g: GraphBuilder, q: string, kT: string, v: string, mask: string, headDim: number, heads: number): string {
  const scores = g.op('Mul', [g.op('MatMul', [q, kT]), g.constFloat([1 / Math.sqrt(headDim)], [])]);
  const probs = g.op('Softmax', [g.op('Add', [scores, mask])], { axis: -1 });
  const out = g.op('Transpose', [g.op('MatMul', [probs, v])], { perm: [0, 2, 1, 3] });
  return g.op('Reshape', [out, g.constInt64([0, 0, heads * headDim])]);
}
