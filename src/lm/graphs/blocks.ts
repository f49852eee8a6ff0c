import { transpose } from '../../core/matrix';
import { rotaryCosSin } from '../../core/rotaryTables';
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

/**
 * Logits against a tied embedding table [vocab, d] as stored: one Gemm with transB, so no transposed copy of
 * the table is made (neither folded in at load nor, for a 16-bit table, made at every run).
 */
export function tiedLogits(g: GraphBuilder, final: string, table: string, ids: string, vocab: number, d: number): string {
  const rows = g.op('Gemm', [g.op('Reshape', [final, g.constInt64([-1, d])]), table], { transB: 1 });
  const shape = g.op('Concat', [g.op('Shape', [ids]), g.constInt64([vocab])], { axis: 0 });
  return g.op('Reshape', [rows, shape]);
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

/**
 * Adds an nn.Linear weight (stored [out, in]) transposed to [in, out], so that each projection is one
 * MatMul: returns the function that does so for `weights`.
 */
export function linearWeights(g: GraphBuilder, weights: (name: string) => Promise<Float32Array>): (name: string, out: number, inp: number) => Promise<string> {
  return async (name, out, inp) => g.weight(name, [inp, out], transpose(await weights(name), out, inp));
}

/** x / sqrt(mean(x^2) + eps) * scale, from standard ops (opset 17 ReduceMean takes axes as an attribute). */
export function rmsNorm(g: GraphBuilder, x: string, scale: string, epsilon: number): string {
  const meanSquare = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [-1], keepdims: 1 });
  const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [meanSquare, g.constFloat([epsilon], [])])])]);
  return g.op('Mul', [g.op('Mul', [x, inv]), scale]);
}

/** cos and sin tables [maxPositions, rotaryDim/2] (angle p / base^(2i/rotaryDim)), gathered at the positions. */
export function rotaryTables(g: GraphBuilder, positions: string, maxPositions: number, rotaryDim: number, base: number, prefix: string): { cos: string; sin: string } {
  const half = rotaryDim / 2;
  const { cos, sin } = rotaryCosSin(maxPositions, rotaryDim, base);
  // [b, s, half] -> [b, 1, s, half] to broadcast over heads.
  const at = (table: string) => g.op('Unsqueeze', [g.op('Gather', [table, positions], { axis: 0 }), g.constInt64([1])]);
  return { cos: at(g.weight(`${prefix}rotary_cos`, [maxPositions, half], cos)), sin: at(g.weight(`${prefix}rotary_sin`, [maxPositions, half], sin)) };
}

/**
 * Rotary embedding of x [b, h, s, headDim] on its first rotaryDim dimensions: in halves (x_i, x_{i+R/2}),
 * as Llama and GPT-NeoX do, or in adjacent pairs (x_{2i}, x_{2i+1}), as GPT-J does. The rest passes through.
 */
export function applyRotary(g: GraphBuilder, x: string, t: { cos: string; sin: string }, headDim: number, rotaryDim: number, interleaved: boolean): string {
  const half = rotaryDim / 2;
  const last = g.constInt64([-1]);
  const slice = (from: number, to: number) => g.op('Slice', [x, g.constInt64([from]), g.constInt64([to]), last]);
  const rot = rotaryDim === headDim ? x : slice(0, rotaryDim);
  let rotated: string;
  if (!interleaved) {
    const a = g.op('Slice', [rot, g.constInt64([0]), g.constInt64([half]), last]);
    const b = g.op('Slice', [rot, g.constInt64([half]), g.constInt64([rotaryDim]), last]);
    const ra = g.op('Sub', [g.op('Mul', [a, t.cos]), g.op('Mul', [b, t.sin])]);
    const rb = g.op('Add', [g.op('Mul', [b, t.cos]), g.op('Mul', [a, t.sin])]);
    rotated = g.op('Concat', [ra, rb], { axis: -1 });
  } else {
    // [b, h, s, R] -> [b, h, s, R/2, 2]; the pair's two members, rotated, interleave back.
    const pairs = g.op('Reshape', [rot, g.constInt64([0, 0, 0, half, 2])]);
    const [a, b] = g.opMulti('Split', [pairs, g.constInt64([1, 1])], 2, { axis: -1 }) as [string, string];
    const cos = g.op('Unsqueeze', [t.cos, last]);
    const sin = g.op('Unsqueeze', [t.sin, last]);
    const ra = g.op('Sub', [g.op('Mul', [a, cos]), g.op('Mul', [b, sin])]);
    const rb = g.op('Add', [g.op('Mul', [a, sin]), g.op('Mul', [b, cos])]);
    rotated = g.op('Reshape', [g.op('Concat', [ra, rb], { axis: -1 }), g.constInt64([0, 0, 0, rotaryDim])]);
  }
  return rotaryDim === headDim ? rotated : g.op('Concat', [rotated, slice(rotaryDim, headDim)], { axis: -1 });
}

/** Key/value heads [b, kvHeads, s, hd] repeated to [b, heads, s, hd] (grouped-query attention). */
export function repeatKv(g: GraphBuilder, x: string, heads: number, kvHeads: number, headDim: number): string {
  if (heads === kvHeads) return x;
  const expanded = g.op('Expand', [g.op('Unsqueeze', [x, g.constInt64([2])]), g.constInt64([1, 1, heads / kvHeads, 1, 1])]);
  return g.op('Reshape', [expanded, g.constInt64([0, heads, -1, headDim])]);
}
