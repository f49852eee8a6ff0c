import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../src/core/random';
import * as ops from '../src/edit/engine/ops';
import { Graph, Tensor } from '../src/edit/engine/tensor';

const rng = new SeededRandom(99);
const randTensor = (shape: number[], scale = 1, requiresGrad = true) => new Tensor(rng.gaussianArray(shape.reduce((a, b) => a * b, 1)).map((x) => x * scale), shape, requiresGrad);

/**
 * Checks d/dt L(x + t v) at t = 0 two ways: the engine's gradient dotted with v, and a central difference
 * of the forward pass alone (float64 sums of float32 values). L = sum(op(inputs) * w) for random fixed w.
 */
function checkGradients(name: string, inputs: Tensor[], forward: (g: Graph | null, xs: Tensor[]) => Tensor, eps = 1e-2, tol = 2e-3) {
  const probe = forward(null, inputs);
  const w = rng.gaussianArray(probe.size);
  const loss = (xs: Tensor[]) => {
    const out = forward(null, xs);
    let s = 0;
    for (let i = 0; i < out.size; i++) s += (out.data[i] as number) * (w[i] as number);
    return s;
  };
  const g = new Graph();
  const out = forward(g, inputs);
  g.backward(ops.weightedSum(g, out, w));
  for (const [index, x] of inputs.entries()) {
    if (!x.requiresGrad) continue;
    const v = rng.gaussianArray(x.size);
    let analytic = 0;
    for (let i = 0; i < x.size; i++) analytic += (x.grad?.[i] ?? 0) * (v[i] as number);
    const shifted = (sign: number) => inputs.map((t, j) => (j === index ? new Tensor(t.data.map((val, i) => val + sign * eps * (v[i] as number)), t.shape) : t));
    const numeric = (loss(shifted(1)) - loss(shifted(-1))) / (2 * eps);
    expect(Math.abs(analytic - numeric), `${name}: input ${index}: analytic ${analytic} vs numeric ${numeric}`).toBeLessThan(tol * Math.max(1, Math.abs(numeric)));
  }
}


describe('gradients against finite differences', () => {
  it('embedding, add, mul, scale, columns', () => {
    const ids = Int32Array.from([3, 0, 3, 1]);
    checkGradients('embedding', [randTensor([5, 6])], (g, [t]) => ops.embedding(g, t!, ids));
    checkGradients('add', [randTensor([4, 3]), randTensor([4, 3])], (g, [a, b]) => ops.add(g, a!, b!));
    checkGradients('mul', [randTensor([4, 3]), randTensor([4, 3])], (g, [a, b]) => ops.mul(g, a!, b!));
    checkGradients('scale', [randTensor([4, 3])], (g, [a]) => ops.scale(g, a!, -0.7));
    checkGradients('columns', [randTensor([3, 9])], (g, [a]) => ops.columns(g, a!, 2, 4));
  });

  it('linear in both layouts, and the tied output projection', () => {
    checkGradients('linear in_out', [randTensor([7, 5]), randTensor([5, 6], 0.5), randTensor([6])], (g, [x, w, b]) => ops.linear(g, x!, w!, b!, 'in_out'));
    checkGradients('linear out_in', [randTensor([7, 5]), randTensor([6, 5], 0.5), randTensor([6])], (g, [x, w, b]) => ops.linear(g, x!, w!, b!, 'out_in'));
    checkGradients('linear no bias', [randTensor([9, 4]), randTensor([4, 3], 0.5)], (g, [x, w]) => ops.linear(g, x!, w!, null));
    checkGradients('matmulNT', [randTensor([6, 5]), randTensor([7, 5])], (g, [a, b]) => ops.matmulNT(g, a!, b!));
  });

  it('layerNorm, rmsNorm, geluTanh, silu', () => {
    checkGradients('layerNorm', [randTensor([5, 8]), randTensor([8]), randTensor([8])], (g, [x, ga, be]) => ops.layerNorm(g, x!, ga!, be!));
    checkGradients('rmsNorm', [randTensor([5, 8]), randTensor([8])], (g, [x, ga]) => ops.rmsNorm(g, x!, ga!));
    checkGradients('geluTanh', [randTensor([6, 7], 2)], (g, [x]) => ops.geluTanh(g, x!));
    checkGradients('silu', [randTensor([6, 7], 2)], (g, [x]) => ops.silu(g, x!));
  });

  it('causal attention (multi-head and grouped-query) and rotary (both pairings)', () => {
    const mha = { batch: 2, seq: 5, heads: 2, kvHeads: 2, headDim: 3 };
    checkGradients('dropout', [randTensor([7, 9])], (g, [x]) => ops.dropout(g, x!, 0.3, new SeededRandom(4)));
    checkGradients('attention', [randTensor([10, 6]), randTensor([10, 6]), randTensor([10, 6])], (g, [q, k, v]) => ops.causalAttention(g, q!, k!, v!, mha));
    const gqa = { batch: 1, seq: 6, heads: 4, kvHeads: 2, headDim: 2 };
    checkGradients('attention gqa', [randTensor([6, 8]), randTensor([6, 4]), randTensor([6, 4])], (g, [q, k, v]) => ops.causalAttention(g, q!, k!, v!, gqa));
    const rows = Int32Array.from([0, 4, 7, 9]);
    checkGradients('attention rows', [randTensor([4, 6]), randTensor([10, 6]), randTensor([10, 6])], (g, [q, k, v]) => ops.causalAttention(g, q!, k!, v!, mha, rows));
    for (const interleaved of [true, false]) {
      const shape = { seq: 4, heads: 2, headDim: 6, rotaryDim: 4, base: 10000, interleaved };
      checkGradients(`rotary interleaved=${interleaved}`, [randTensor([8, 12])], (g, [x]) => ops.rotary(g, x!, shape));
    }
  });

  it('logSoftmax, crossEntropy (with ignored targets), weightedSum, norm, addAtRows, gatherRows', () => {
    checkGradients('logSoftmax', [randTensor([4, 7])], (g, [x]) => ops.logSoftmax(g, x!));
    checkGradients('crossEntropy', [randTensor([5, 7])], (g, [x]) => ops.crossEntropy(g, x!, Int32Array.from([2, -1, 6, 0, 2])));
    checkGradients('norm', [randTensor([3, 4])], (g, [x]) => ops.norm(g, x!));
    checkGradients('addAtRows', [randTensor([5, 4]), randTensor([4])], (g, [x, d]) => ops.addAtRows(g, x!, d!, Int32Array.from([1, 3, 3])));
    checkGradients('gatherRows', [randTensor([5, 4])], (g, [x]) => ops.gatherRows(g, x!, Int32Array.from([4, 0, 4])));
    const logq = ops.logSoftmax(null, randTensor([3, 6], 1, false)).data;
    checkGradients('klFromLogProbs', [randTensor([3, 6])], (g, [x]) => ops.klFromLogProbs(g, ops.logSoftmax(g, x!), logq));
  });
});

describe('op values against exact formulas', () => {
  it('attention for selected query rows equals those rows of full attention', () => {
    const shape = { batch: 2, seq: 5, heads: 2, kvHeads: 1, headDim: 3 };
    const q = randTensor([10, 6], 1, false);
    const k = randTensor([10, 3], 1, false);
    const v = randTensor([10, 3], 1, false);
    const full = ops.causalAttention(null, q, k, v, shape);
    const rows = Int32Array.from([9, 2, 5]);
    const part = ops.causalAttention(null, ops.gatherRows(null, q, rows), k, v, shape, rows);
    rows.forEach((r, i) => {
      for (let c = 0; c < 6; c++) expect(part.data[i * 6 + c]).toBeCloseTo(full.data[r * 6 + c]!, 6);
    });
  });

  it('attention of a single position returns its value; softmax rows sum to one; rotary keeps norms', () => {
    const v = randTensor([1, 4], 1, false);
    const out = ops.causalAttention(null, randTensor([1, 4], 1, false), randTensor([1, 4], 1, false), v, { batch: 1, seq: 1, heads: 2, kvHeads: 2, headDim: 2 });
    expect(Array.from(out.data)).toEqual(Array.from(v.data));
    const ls = ops.logSoftmax(null, randTensor([3, 5], 3, false));
    for (let i = 0; i < 3; i++) expect(Array.from(ls.data.subarray(i * 5, i * 5 + 5)).reduce((a, b) => a + Math.exp(b), 0)).toBeCloseTo(1, 6);
    const x = randTensor([6, 8], 1, false);
    const r = ops.rotary(null, x, { seq: 3, heads: 1, headDim: 8, rotaryDim: 8, base: 10000, interleaved: false });
    for (let i = 0; i < 6; i++) {
      const n0 = Math.hypot(...x.data.subarray(i * 8, i * 8 + 8));
      const n1 = Math.hypot(...r.data.subarray(i * 8, i * 8 + 8));
      expect(n1).toBeCloseTo(n0, 5);
    }
    // Position 0 is not rotated.
    expect(Array.from(r.data.subarray(0, 8))).toEqual(Array.from(x.data.subarray(0, 8)));
    const ce = ops.crossEntropy(null, new Tensor(Float32Array.from([0, 0, 0, 0]), [1, 4]), Int32Array.from([2]));
    expect(ce.data[0]).toBeCloseTo(Math.log(4), 6);
  });
});

describe('GPT-2 forward', () => {
  it('logits for selected rows equal those rows of the full forward, and resuming after a layer changes nothing', async () => {
    const { initGpt2, gpt2Forward } = await import('../src/edit/gpt2Model');
    const c = { vocab_size: 30, n_positions: 8, n_embd: 12, n_layer: 3, n_head: 3, n_inner: 48, layer_norm_epsilon: 1e-5 };
    const params = initGpt2(c, 3);
    const ids = Int32Array.from({ length: 2 * 6 }, (_, i) => (i * 7) % 30);
    const full = gpt2Forward(null, c, params, ids, 2, 6);
    const rows = Int32Array.from([5, 0, 11]);
    const part = gpt2Forward(null, c, params, ids, 2, 6, { logitRows: rows });
    rows.forEach((r, i) => {
      for (let j = 0; j < 30; j++) expect(part.data[i * 30 + j]).toBeCloseTo(full.data[r * 30 + j]!, 5);
    });
    const capture: { layer: number; residual?: import('../src/edit/engine/tensor').Tensor } = { layer: 0 };
    gpt2Forward(null, c, params, ids, 2, 6, { captureResidual: capture });
    const resumed = gpt2Forward(null, c, params, ids, 2, 6, { resumeAfter: { layer: 0, residual: capture.residual! }, logitRows: rows });
    expect(Array.from(resumed.data)).toEqual(Array.from(part.data));
  });
});

describe('dropout', () => {
  it('zeroes about p of the entries, scales the rest by 1/(1-p), and repeats with the same seed', () => {
    const x = new Tensor(new Float32Array(20000).fill(2), [100, 200]);
    const a = ops.dropout(null, x, 0.1, new SeededRandom(9));
    const zeros = a.data.filter((v) => v === 0).length;
    expect(zeros / 20000).toBeGreaterThan(0.09);
    expect(zeros / 20000).toBeLessThan(0.11);
    expect(a.data.every((v) => v === 0 || Math.abs(v - 2 / 0.9) < 1e-6)).toBe(true);
    expect(ops.dropout(null, x, 0.1, new SeededRandom(9)).data).toEqual(a.data);
    expect(ops.dropout(null, x, 0, new SeededRandom(9))).toBe(x);
  });
});
