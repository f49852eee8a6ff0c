import type { SeededRandom } from '../../core/random';
import { rotaryCosSin } from '../../core/rotaryTables';
import { transpose } from '../../core/matrix';
import { gemmNT } from './gemm';
import { type Graph, Tensor } from './tensor';

/**
 * The engine's ops, each a forward plus a hand-written backward (checked against finite differences in
 * tests/engine.test.ts). `g` null means inference: nothing is recorded. Matrices are row-major, one row per
 * token; `x.cols` is the feature axis.
 */

function result(g: Graph | null, data: Float32Array, shape: readonly number[], inputs: readonly Tensor[], backward: (out: Tensor) => void): Tensor {
  return g ? g.output(data, shape, inputs, backward) : new Tensor(data, shape);
}

function addTo(target: Float32Array, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) target[i] = (target[i] as number) + (values[i] as number);
}

/** Rows of `table` picked by `ids`: token (or position) embeddings. */
export function embedding(g: Graph | null, table: Tensor, ids: Int32Array): Tensor {
  const d = table.cols;
  const vocab = table.rows;
  const out = new Float32Array(ids.length * d);
  ids.forEach((id, i) => {
    if (id < 0 || id >= vocab) throw new RangeError(`embedding id ${id} outside 0..${vocab - 1}`);
    out.set(table.data.subarray(id * d, (id + 1) * d), i * d);
  });
  return result(g, out, [ids.length, d], [table], (o) => {
    if (!g?.tracks(table)) return;
    const tg = table.gradBuffer();
    const og = o.grad as Float32Array;
    ids.forEach((id, i) => {
      for (let c = 0; c < d; c++) tg[id * d + c] = (tg[id * d + c] as number) + (og[i * d + c] as number);
    });
  });
}

/** a + b, same shape (residual connections). */
export function add(g: Graph | null, a: Tensor, b: Tensor): Tensor {
  if (a.size !== b.size) throw new RangeError(`add: sizes ${a.size} and ${b.size}`);
  const out = new Float32Array(a.size);
  for (let i = 0; i < out.length; i++) out[i] = (a.data[i] as number) + (b.data[i] as number);
  return result(g, out, a.shape, [a, b], (o) => {
    if (g?.tracks(a)) addTo(a.gradBuffer(), o.grad as Float32Array);
    if (g?.tracks(b)) addTo(b.gradBuffer(), o.grad as Float32Array);
  });
}

/** a * b element-wise (SwiGLU's gate). */
export function mul(g: Graph | null, a: Tensor, b: Tensor): Tensor {
  if (a.size !== b.size) throw new RangeError(`mul: sizes ${a.size} and ${b.size}`);
  const out = new Float32Array(a.size);
  for (let i = 0; i < out.length; i++) out[i] = (a.data[i] as number) * (b.data[i] as number);
  return result(g, out, a.shape, [a, b], (o) => {
    const og = o.grad as Float32Array;
    if (g?.tracks(a)) {
      const ag = a.gradBuffer();
      for (let i = 0; i < og.length; i++) ag[i] = (ag[i] as number) + (og[i] as number) * (b.data[i] as number);
    }
    if (g?.tracks(b)) {
      const bg = b.gradBuffer();
      for (let i = 0; i < og.length; i++) bg[i] = (bg[i] as number) + (og[i] as number) * (a.data[i] as number);
    }
  });
}

/**
 * Inverted dropout (GPT-2's resid_pdrop / embd_pdrop): each entry is zeroed with probability p and the others
 * scaled by 1 / (1 - p), from the given generator (deterministic training). p = 0 returns x itself.
 */
export function dropout(g: Graph | null, x: Tensor, p: number, rng: SeededRandom): Tensor {
  if (p <= 0) return x;
  if (p >= 1) throw new RangeError(`dropout probability ${p} must be below 1`);
  const keep = 1 / (1 - p);
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < p ? 0 : keep;
  const out = new Float32Array(x.size);
  for (let i = 0; i < out.length; i++) out[i] = (x.data[i] as number) * (mask[i] as number);
  return result(g, out, x.shape, [x], (o) => {
    if (!g?.tracks(x)) return;
    const xg = x.gradBuffer();
    const og = o.grad as Float32Array;
    for (let i = 0; i < og.length; i++) xg[i] = (xg[i] as number) + (og[i] as number) * (mask[i] as number);
  });
}

/** s * x for a constant s. */
export function scale(g: Graph | null, x: Tensor, s: number): Tensor {
  const out = x.data.map((v) => v * s);
  return result(g, out, x.shape, [x], (o) => {
    if (!g?.tracks(x)) return;
    const xg = x.gradBuffer();
    const og = o.grad as Float32Array;
    for (let i = 0; i < og.length; i++) xg[i] = (xg[i] as number) + s * (og[i] as number);
  });
}

/**
 * y = x W + bias. `layout` 'in_out' stores W as [in, out] (GPT-2's Conv1D); 'out_in' as [out, in]
 * (nn.Linear: GPT-J, Llama, GPT-NeoX).
 */
export function linear(g: Graph | null, x: Tensor, w: Tensor, bias: Tensor | null, layout: 'in_out' | 'out_in' = 'in_out'): Tensor {
  const n = x.rows;
  const k = x.cols;
  const m = layout === 'in_out' ? w.cols : w.rows;
  if ((layout === 'in_out' ? w.rows : w.cols) !== k) throw new RangeError(`linear: input has ${k} features, weight is [${w.shape}] (${layout})`);
  // gemmNT wants W as [out, in].
  const wOutIn = layout === 'out_in' ? w.data : transpose(w.data, k, m);
  const out = new Float32Array(n * m);
  gemmNT(x.data, n, k, wOutIn, m, out);
  if (bias) for (let i = 0; i < n; i++) for (let c = 0; c < m; c++) out[i * m + c] = (out[i * m + c] as number) + (bias.data[c] as number);
  const inputs = bias ? [x, w, bias] : [x, w];
  return result(g, out, [...x.shape.slice(0, -1), m], inputs, (o) => {
    const dy = o.grad as Float32Array;
    if (g?.tracks(x)) {
      // dx [n, k] = dy [n, m] W^T: with W as [in, out] = [k, m], rows of W are dotted with rows of dy.
      const wInOut = layout === 'in_out' ? w.data : transpose(w.data, m, k);
      gemmNT(dy, n, m, wInOut, k, x.gradBuffer(), true);
    }
    if (g?.tracks(w)) {
      // dW = x^T dy: dot products over the token axis, after transposing both.
      const xt = transpose(x.data, n, k);
      const dyt = transpose(dy, n, m);
      if (layout === 'in_out') gemmNT(xt, k, n, dyt, m, w.gradBuffer(), true);
      else gemmNT(dyt, m, n, xt, k, w.gradBuffer(), true);
    }
    if (bias && g?.tracks(bias)) {
      const bg = bias.gradBuffer();
      for (let i = 0; i < n; i++) for (let c = 0; c < m; c++) bg[c] = (bg[c] as number) + (dy[i * m + c] as number);
    }
  });
}

/** a [n, k] times b [m, k]^T: the tied output projection (hidden states times the embedding table). */
export function matmulNT(g: Graph | null, a: Tensor, b: Tensor): Tensor {
  const n = a.rows;
  const k = a.cols;
  const m = b.rows;
  if (b.cols !== k) throw new RangeError(`matmulNT: ${k} vs ${b.cols} features`);
  const out = new Float32Array(n * m);
  gemmNT(a.data, n, k, b.data, m, out);
  return result(g, out, [...a.shape.slice(0, -1), m], [a, b], (o) => {
    const dy = o.grad as Float32Array;
    if (g?.tracks(a)) gemmNT(dy, n, m, transpose(b.data, m, k), k, a.gradBuffer(), true);
    if (g?.tracks(b)) gemmNT(transpose(dy, n, m), m, n, transpose(a.data, n, k), k, b.gradBuffer(), true);
  });
}

/** LayerNorm over the last axis: (x - mean) / sqrt(var + eps) * gamma + beta. */
export function layerNorm(g: Graph | null, x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): Tensor {
  const n = x.rows;
  const d = x.cols;
  const out = new Float32Array(n * d);
  const xhat = new Float32Array(n * d);
  const rstd = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let mean = 0;
    for (let c = 0; c < d; c++) mean += x.data[i * d + c] as number;
    mean /= d;
    let v = 0;
    for (let c = 0; c < d; c++) v += ((x.data[i * d + c] as number) - mean) ** 2;
    const r = 1 / Math.sqrt(v / d + eps);
    rstd[i] = r;
    for (let c = 0; c < d; c++) {
      const h = ((x.data[i * d + c] as number) - mean) * r;
      xhat[i * d + c] = h;
      out[i * d + c] = h * (gamma.data[c] as number) + (beta.data[c] as number);
    }
  }
  return result(g, out, x.shape, [x, gamma, beta], (o) => {
    const dy = o.grad as Float32Array;
    if (g?.tracks(gamma) || g?.tracks(beta)) {
      const gg = gamma.gradBuffer();
      const bg = beta.gradBuffer();
      for (let i = 0; i < n * d; i++) {
        const c = i % d;
        gg[c] = (gg[c] as number) + (dy[i] as number) * (xhat[i] as number);
        bg[c] = (bg[c] as number) + (dy[i] as number);
      }
    }
    if (!g?.tracks(x)) return;
    const xg = x.gradBuffer();
    for (let i = 0; i < n; i++) {
      // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * gamma
      let m1 = 0;
      let m2 = 0;
      for (let c = 0; c < d; c++) {
        const dh = (dy[i * d + c] as number) * (gamma.data[c] as number);
        m1 += dh;
        m2 += dh * (xhat[i * d + c] as number);
      }
      m1 /= d;
      m2 /= d;
      for (let c = 0; c < d; c++) {
        const dh = (dy[i * d + c] as number) * (gamma.data[c] as number);
        xg[i * d + c] = (xg[i * d + c] as number) + (rstd[i] as number) * (dh - m1 - (xhat[i * d + c] as number) * m2);
      }
    }
  });
}

/** RMSNorm (Llama): x / sqrt(mean(x^2) + eps) * gamma. */
export function rmsNorm(g: Graph | null, x: Tensor, gamma: Tensor, eps = 1e-6): Tensor {
  const n = x.rows;
  const d = x.cols;
  const out = new Float32Array(n * d);
  const rms = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += (x.data[i * d + c] as number) ** 2;
    const r = 1 / Math.sqrt(s / d + eps);
    rms[i] = r;
    for (let c = 0; c < d; c++) out[i * d + c] = (x.data[i * d + c] as number) * r * (gamma.data[c] as number);
  }
  return result(g, out, x.shape, [x, gamma], (o) => {
    const dy = o.grad as Float32Array;
    if (g?.tracks(gamma)) {
      const gg = gamma.gradBuffer();
      for (let i = 0; i < n * d; i++) gg[i % d] = (gg[i % d] as number) + (dy[i] as number) * (x.data[i] as number) * (rms[Math.floor(i / d)] as number);
    }
    if (!g?.tracks(x)) return;
    const xg = x.gradBuffer();
    for (let i = 0; i < n; i++) {
      const r = rms[i] as number;
      let s = 0;
      for (let c = 0; c < d; c++) s += (dy[i * d + c] as number) * (gamma.data[c] as number) * (x.data[i * d + c] as number);
      for (let c = 0; c < d; c++) {
        const dh = (dy[i * d + c] as number) * (gamma.data[c] as number);
        xg[i * d + c] = (xg[i * d + c] as number) + r * dh - (r * r * r * s * (x.data[i * d + c] as number)) / d;
      }
    }
  });
}

const GELU_C = Math.sqrt(2 / Math.PI);

/** GELU with the tanh approximation (GPT-2's "gelu_new"). */
export function geluTanh(g: Graph | null, x: Tensor): Tensor {
  const out = new Float32Array(x.size);
  for (let i = 0; i < out.length; i++) {
    const v = x.data[i] as number;
    out[i] = 0.5 * v * (1 + Math.tanh(GELU_C * (v + 0.044715 * v * v * v)));
  }
  return result(g, out, x.shape, [x], (o) => {
    if (!g?.tracks(x)) return;
    const dy = o.grad as Float32Array;
    const xg = x.gradBuffer();
    for (let i = 0; i < dy.length; i++) {
      const v = x.data[i] as number;
      const t = Math.tanh(GELU_C * (v + 0.044715 * v * v * v));
      const dt = (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * v * v);
      xg[i] = (xg[i] as number) + (dy[i] as number) * (0.5 * (1 + t) + 0.5 * v * dt);
    }
  });
}

/** SiLU (swish): x * sigmoid(x). */
export function silu(g: Graph | null, x: Tensor): Tensor {
  const out = new Float32Array(x.size);
  for (let i = 0; i < out.length; i++) {
    const v = x.data[i] as number;
    out[i] = v / (1 + Math.exp(-v));
  }
  return result(g, out, x.shape, [x], (o) => {
    if (!g?.tracks(x)) return;
    const dy = o.grad as Float32Array;
    const xg = x.gradBuffer();
    for (let i = 0; i < dy.length; i++) {
      const v = x.data[i] as number;
      const s = 1 / (1 + Math.exp(-v));
      xg[i] = (xg[i] as number) + (dy[i] as number) * (s + v * s * (1 - s));
    }
  });
}

/** Columns [start, start + width) of every row (splitting a fused q|k|v projection). */
export function columns(g: Graph | null, x: Tensor, start: number, width: number): Tensor {
  const n = x.rows;
  const d = x.cols;
  if (start < 0 || start + width > d) throw new RangeError(`columns [${start}, ${start + width}) outside 0..${d}`);
  const out = new Float32Array(n * width);
  for (let i = 0; i < n; i++) out.set(x.data.subarray(i * d + start, i * d + start + width), i * width);
  return result(g, out, [...x.shape.slice(0, -1), width], [x], (o) => {
    if (!g?.tracks(x)) return;
    const dy = o.grad as Float32Array;
    const xg = x.gradBuffer();
    for (let i = 0; i < n; i++) for (let c = 0; c < width; c++) xg[i * d + start + c] = (xg[i * d + start + c] as number) + (dy[i * width + c] as number);
  });
}

export interface AttentionShape {
  batch: number;
  seq: number;
  heads: number;
  /** Key/value heads (grouped-query attention when fewer than `heads`). */
  kvHeads: number;
  headDim: number;
}

/**
 * Causal multi-head attention softmax(q k^T / sqrt(d_h) + mask) v. q is [batch*seq, heads*headDim],
 * k and v [batch*seq, kvHeads*headDim]; query head h reads key/value head floor(h / (heads / kvHeads)).
 */
export function causalAttention(g: Graph | null, q: Tensor, k: Tensor, v: Tensor, s: AttentionShape, queryRows?: Int32Array): Tensor {
  if (s.heads % s.kvHeads !== 0) throw new RangeError(`heads ${s.heads} not a multiple of kv heads ${s.kvHeads}`);
  return queryRows ? causalAttentionRows(g, q, k, v, s, queryRows) : causalAttentionFull(g, q, k, v, s);
}

/** Copies head `h`'s columns [h*D, (h+1)*D) of sequence `b` out of x [batch*seq, width] into [seq x D]. */
function headSlice(x: Float32Array, b: number, h: number, T: number, D: number, width: number, out: Float32Array): Float32Array {
  for (let t = 0; t < T; t++) out.set(x.subarray((b * T + t) * width + h * D, (b * T + t) * width + (h + 1) * D), t * D);
  return out;
}

/** Adds [seq x D] back into head `h`'s columns of sequence `b`. */
function addHeadSlice(target: Float32Array, b: number, h: number, T: number, D: number, width: number, values: Float32Array): void {
  for (let t = 0; t < T; t++) {
    const o = (b * T + t) * width + h * D;
    for (let e = 0; e < D; e++) target[o + e] = (target[o + e] as number) + (values[t * D + e] as number);
  }
}

/**
 * Every position's attention, one (sequence, head) at a time as matrix products (the engine's GEMM, native
 * in Node): S = Q K^T / sqrt(D), causal softmax, O = P V; the backward pass likewise. Same maths as the
 * row-by-row form below (tested equal), several times faster once the products are native.
 */
function causalAttentionFull(g: Graph | null, q: Tensor, k: Tensor, v: Tensor, s: AttentionShape): Tensor {
  const { batch: B, seq: T, heads: H, kvHeads: HK, headDim: D } = s;
  const group = H / HK;
  const qw = H * D;
  const kw = HK * D;
  if (q.rows !== B * T || k.rows !== B * T || v.rows !== B * T) throw new RangeError(`causalAttention: ${q.rows}/${k.rows}/${v.rows} rows for ${B} x ${T} positions`);
  const scaleFactor = 1 / Math.sqrt(D);
  const probs = new Float32Array(B * H * T * T);
  const out = new Float32Array(B * T * qw);
  const qh = new Float32Array(T * D);
  const kh = new Float32Array(T * D);
  const vh = new Float32Array(T * D);
  const oh = new Float32Array(T * D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const p = probs.subarray((b * H + h) * T * T, (b * H + h + 1) * T * T);
      headSlice(q.data, b, h, T, D, qw, qh);
      headSlice(k.data, b, Math.floor(h / group), T, D, kw, kh);
      headSlice(v.data, b, Math.floor(h / group), T, D, kw, vh);
      gemmNT(qh, T, D, kh, T, p);
      for (let t = 0; t < T; t++) {
        const row = t * T;
        let max = -Infinity;
        for (let u = 0; u <= t; u++) {
          p[row + u] = (p[row + u] as number) * scaleFactor;
          // The max of the stored (float32) scores, so that the largest becomes exp(0) = 1 exactly.
          if ((p[row + u] as number) > max) max = p[row + u] as number;
        }
        let sum = 0;
        for (let u = 0; u <= t; u++) {
          const e = Math.exp((p[row + u] as number) - max);
          p[row + u] = e;
          sum += e;
        }
        for (let u = 0; u <= t; u++) p[row + u] = (p[row + u] as number) / sum;
        p.fill(0, row + t + 1, row + T);
      }
      gemmNT(p, T, T, transpose(vh, T, D), D, oh);
      addHeadSlice(out, b, h, T, D, qw, oh);
    }
  }
  return result(g, out, [B * T, qw], [q, k, v], (o) => {
    const dy = o.grad as Float32Array;
    const dq = g?.tracks(q) ? q.gradBuffer() : null;
    const dk = g?.tracks(k) ? k.gradBuffer() : null;
    const dv = g?.tracks(v) ? v.gradBuffer() : null;
    const dyh = new Float32Array(T * D);
    const dp = new Float32Array(T * T);
    const part = new Float32Array(T * D);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        const p = probs.subarray((b * H + h) * T * T, (b * H + h + 1) * T * T);
        const kvHead = Math.floor(h / group);
        headSlice(dy, b, h, T, D, qw, dyh);
        headSlice(q.data, b, h, T, D, qw, qh);
        headSlice(k.data, b, kvHead, T, D, kw, kh);
        headSlice(v.data, b, kvHead, T, D, kw, vh);
        if (dv) {
          // dV = P^T dO
          gemmNT(transpose(p, T, T), T, T, transpose(dyh, T, D), D, part);
          addHeadSlice(dv, b, kvHead, T, D, kw, part);
        }
        // dP = dO V^T, then dS = P (dP - rowsum(P dP)) / sqrt(D)
        gemmNT(dyh, T, D, vh, T, dp);
        for (let t = 0; t < T; t++) {
          const row = t * T;
          let inner = 0;
          for (let u = 0; u <= t; u++) inner += (p[row + u] as number) * (dp[row + u] as number);
          for (let u = 0; u <= t; u++) dp[row + u] = (p[row + u] as number) * ((dp[row + u] as number) - inner) * scaleFactor;
          dp.fill(0, row + t + 1, row + T);
        }
        if (dq) {
          // dQ = dS K
          gemmNT(dp, T, T, transpose(kh, T, D), D, part);
          addHeadSlice(dq, b, h, T, D, qw, part);
        }
        if (dk) {
          // dK = dS^T Q
          gemmNT(transpose(dp, T, T), T, T, transpose(qh, T, D), D, part);
          addHeadSlice(dk, b, kvHead, T, D, kw, part);
        }
      }
    }
  });
}

/**
 * Causal attention for selected query rows only: `q` holds the queries of `rows` (flattened batch*seq
 * positions, one q row each); keys and values cover every position. Output [rows.length, heads*headDim].
 * When only some positions' outputs are needed (the last layer under a logit mask), this skips the rest.
 */
function causalAttentionRows(g: Graph | null, q: Tensor, k: Tensor, v: Tensor, s: AttentionShape, rows: Int32Array): Tensor {
  const { seq: T, heads: H, kvHeads: HK, headDim: D } = s;
  const group = H / HK;
  const qw = H * D;
  const kw = HK * D;
  const scaleFactor = 1 / Math.sqrt(D);
  const R = rows.length;
  if (q.rows !== R) throw new RangeError(`causalAttentionRows: ${q.rows} query rows for ${R} positions`);
  const probs = new Float32Array(R * H * T);
  const out = new Float32Array(R * qw);
  const qd = q.data;
  const kd = k.data;
  const vd = v.data;
  for (let r = 0; r < R; r++) {
    const row = rows[r] as number;
    const b = Math.floor(row / T);
    const t = row % T;
    for (let h = 0; h < H; h++) {
      const kh = Math.floor(h / group);
      const qo = r * qw + h * D;
      const po = (r * H + h) * T;
      let max = -Infinity;
      for (let u = 0; u <= t; u++) {
        const ko = (b * T + u) * kw + kh * D;
        let dotp = 0;
        for (let e = 0; e < D; e++) dotp += (qd[qo + e] as number) * (kd[ko + e] as number);
        const sc = dotp * scaleFactor;
        probs[po + u] = sc;
        if (sc > max) max = sc;
      }
      let sum = 0;
      for (let u = 0; u <= t; u++) {
        const e = Math.exp((probs[po + u] as number) - max);
        probs[po + u] = e;
        sum += e;
      }
      for (let u = 0; u <= t; u++) {
        const p = (probs[po + u] as number) / sum;
        probs[po + u] = p;
        const vo = (b * T + u) * kw + kh * D;
        for (let e = 0; e < D; e++) out[qo + e] = (out[qo + e] as number) + p * (vd[vo + e] as number);
      }
    }
  }
  return result(g, out, [R, qw], [q, k, v], (o) => {
    const dy = o.grad as Float32Array;
    const dq = g?.tracks(q) ? q.gradBuffer() : null;
    const dk = g?.tracks(k) ? k.gradBuffer() : null;
    const dv = g?.tracks(v) ? v.gradBuffer() : null;
    const dp = new Float32Array(T);
    for (let r = 0; r < R; r++) {
      const row = rows[r] as number;
      const b = Math.floor(row / T);
      const t = row % T;
      for (let h = 0; h < H; h++) {
        const kh = Math.floor(h / group);
        const oo = r * qw + h * D;
        const po = (r * H + h) * T;
        let inner = 0;
        for (let u = 0; u <= t; u++) {
          const vo = (b * T + u) * kw + kh * D;
          let s1 = 0;
          for (let e = 0; e < D; e++) s1 += (dy[oo + e] as number) * (vd[vo + e] as number);
          dp[u] = s1;
          inner += (probs[po + u] as number) * s1;
          if (dv) {
            const p = probs[po + u] as number;
            for (let e = 0; e < D; e++) dv[vo + e] = (dv[vo + e] as number) + p * (dy[oo + e] as number);
          }
        }
        for (let u = 0; u <= t; u++) {
          const ds = (probs[po + u] as number) * ((dp[u] as number) - inner) * scaleFactor;
          if (ds === 0) continue;
          const ko = (b * T + u) * kw + kh * D;
          if (dq) for (let e = 0; e < D; e++) dq[oo + e] = (dq[oo + e] as number) + ds * (kd[ko + e] as number);
          if (dk) for (let e = 0; e < D; e++) dk[ko + e] = (dk[ko + e] as number) + ds * (qd[oo + e] as number);
        }
      }
    }
  });
}

export interface RotaryShape {
  seq: number;
  heads: number;
  headDim: number;
  /** Leading dimensions of each head that rotate (GPT-J: 64 of 256; Llama: all). */
  rotaryDim: number;
  base: number;
  /** GPT-J rotates adjacent pairs (x0, x1); Llama and GPT-NeoX rotate halves (x_i, x_{i + rotaryDim/2}). */
  interleaved: boolean;
}

/** Rotary position embedding on [batch*seq, heads*headDim]; the position of row r is r mod seq. */
export function rotary(g: Graph | null, x: Tensor, s: RotaryShape): Tensor {
  const { seq: T, heads: H, headDim: D, rotaryDim: R, base, interleaved } = s;
  const n = x.rows;
  const w = H * D;
  const half = R / 2;
  const { cos, sin } = rotaryCosSin(T, R, base);
  const pair = (i: number): [number, number] => (interleaved ? [2 * i, 2 * i + 1] : [i, i + half]);
  const apply = (src: Float32Array, dst: Float32Array, sign: number) => {
    dst.set(src);
    for (let r = 0; r < n; r++) {
      const t = r % T;
      for (let h = 0; h < H; h++) {
        const o = r * w + h * D;
        for (let i = 0; i < half; i++) {
          const [a, b] = pair(i);
          const c = cos[t * half + i] as number;
          const sn = sign * (sin[t * half + i] as number);
          const xa = src[o + a] as number;
          const xb = src[o + b] as number;
          dst[o + a] = xa * c - xb * sn;
          dst[o + b] = xa * sn + xb * c;
        }
      }
    }
  };
  const out = new Float32Array(x.size);
  apply(x.data, out, 1);
  return result(g, out, x.shape, [x], (o) => {
    if (!g?.tracks(x)) return;
    // The rotation is orthogonal: its transpose rotates back.
    const back = new Float32Array(x.size);
    apply(o.grad as Float32Array, back, -1);
    addTo(x.gradBuffer(), back);
  });
}

/** Row-wise log-softmax. */
export function logSoftmax(g: Graph | null, x: Tensor): Tensor {
  const n = x.rows;
  const d = x.cols;
  const out = new Float32Array(x.size);
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < d; c++) max = Math.max(max, x.data[i * d + c] as number);
    let sum = 0;
    for (let c = 0; c < d; c++) sum += Math.exp((x.data[i * d + c] as number) - max);
    const lse = max + Math.log(sum);
    for (let c = 0; c < d; c++) out[i * d + c] = (x.data[i * d + c] as number) - lse;
  }
  return result(g, out, x.shape, [x], (o) => {
    if (!g?.tracks(x)) return;
    const dy = o.grad as Float32Array;
    const xg = x.gradBuffer();
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += dy[i * d + c] as number;
      for (let c = 0; c < d; c++) xg[i * d + c] = (xg[i * d + c] as number) + (dy[i * d + c] as number) - Math.exp(out[i * d + c] as number) * s;
    }
  });
}

/** Mean cross-entropy of rows of logits against target ids; targets < 0 are ignored. */
export function crossEntropy(g: Graph | null, logits: Tensor, targets: Int32Array): Tensor {
  const n = logits.rows;
  const v = logits.cols;
  if (targets.length !== n) throw new RangeError(`crossEntropy: ${targets.length} targets for ${n} rows`);
  const probs = new Float32Array(n * v);
  let total = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const t = targets[i] as number;
    if (t < 0) continue;
    let max = -Infinity;
    for (let c = 0; c < v; c++) max = Math.max(max, logits.data[i * v + c] as number);
    let sum = 0;
    for (let c = 0; c < v; c++) {
      const e = Math.exp((logits.data[i * v + c] as number) - max);
      probs[i * v + c] = e;
      sum += e;
    }
    for (let c = 0; c < v; c++) probs[i * v + c] = (probs[i * v + c] as number) / sum;
    total -= Math.log(Math.max(probs[i * v + t] as number, 1e-30));
    count++;
  }
  const loss = new Float32Array([count ? total / count : 0]);
  return result(g, loss, [1], [logits], (o) => {
    if (!g?.tracks(logits) || count === 0) return;
    const scaleFactor = (o.grad?.[0] as number) / count;
    const lg = logits.gradBuffer();
    for (let i = 0; i < n; i++) {
      const t = targets[i] as number;
      if (t < 0) continue;
      for (let c = 0; c < v; c++) lg[i * v + c] = (lg[i * v + c] as number) + scaleFactor * ((probs[i * v + c] as number) - (c === t ? 1 : 0));
    }
  });
}

/** sum(x * w) for constant weights w: a scalar (NLL and KL terms built from log-probabilities). */
export function weightedSum(g: Graph | null, x: Tensor, w: Float32Array): Tensor {
  if (w.length !== x.size) throw new RangeError(`weightedSum: ${w.length} weights for ${x.size} values`);
  let s = 0;
  for (let i = 0; i < w.length; i++) s += (x.data[i] as number) * (w[i] as number);
  return result(g, new Float32Array([s]), [1], [x], (o) => {
    if (!g?.tracks(x)) return;
    const gy = o.grad?.[0] as number;
    const xg = x.gradBuffer();
    for (let i = 0; i < w.length; i++) xg[i] = (xg[i] as number) + gy * (w[i] as number);
  });
}

/** Euclidean norm of all entries: a scalar. */
export function norm(g: Graph | null, x: Tensor): Tensor {
  let s = 0;
  for (let i = 0; i < x.size; i++) s += (x.data[i] as number) ** 2;
  const value = Math.sqrt(s);
  return result(g, new Float32Array([value]), [1], [x], (o) => {
    if (!g?.tracks(x) || value === 0) return;
    const gy = (o.grad?.[0] as number) / value;
    const xg = x.gradBuffer();
    for (let i = 0; i < x.size; i++) xg[i] = (xg[i] as number) + gy * (x.data[i] as number);
  });
}

/** x with the vector `delta` added to the listed rows (ROME's v* optimisation). */
export function addAtRows(g: Graph | null, x: Tensor, delta: Tensor, rows: Int32Array): Tensor {
  const d = x.cols;
  if (delta.size !== d) throw new RangeError(`addAtRows: delta has ${delta.size} values, rows have ${d}`);
  const out = Float32Array.from(x.data);
  for (const r of rows) for (let c = 0; c < d; c++) out[r * d + c] = (out[r * d + c] as number) + (delta.data[c] as number);
  return result(g, out, x.shape, [x, delta], (o) => {
    const dy = o.grad as Float32Array;
    if (g?.tracks(x)) addTo(x.gradBuffer(), dy);
    if (g?.tracks(delta)) {
      const dg = delta.gradBuffer();
      for (const r of rows) for (let c = 0; c < d; c++) dg[c] = (dg[c] as number) + (dy[r * d + c] as number);
    }
  });
}

/** The listed rows of x, stacked. */
export function gatherRows(g: Graph | null, x: Tensor, rows: Int32Array): Tensor {
  const d = x.cols;
  const out = new Float32Array(rows.length * d);
  rows.forEach((r, i) => out.set(x.data.subarray(r * d, (r + 1) * d), i * d));
  return result(g, out, [rows.length, d], [x], (o) => {
    if (!g?.tracks(x)) return;
    const dy = o.grad as Float32Array;
    const xg = x.gradBuffer();
    rows.forEach((r, i) => {
      for (let c = 0; c < d; c++) xg[r * d + c] = (xg[r * d + c] as number) + (dy[i * d + c] as number);
    });
  });
}

/**
 * Mean over rows of KL(p || q) = sum_j p_j (log p_j - log q_j), from log-probabilities: `logp` (tracked) and
 * the constant `logq`. ROME's KL term (torch's kl_div(q, p, log_target=True, reduction='batchmean')).
 */
export function klFromLogProbs(g: Graph | null, logp: Tensor, logq: Float32Array): Tensor {
  const n = logp.rows;
  let s = 0;
  for (let i = 0; i < logp.size; i++) {
    const lp = logp.data[i] as number;
    s += Math.exp(lp) * (lp - (logq[i] as number));
  }
  return result(g, new Float32Array([s / n]), [1], [logp], (o) => {
    if (!g?.tracks(logp)) return;
    const gy = (o.grad?.[0] as number) / n;
    const lg = logp.gradBuffer();
    for (let i = 0; i < logp.size; i++) {
      const lp = logp.data[i] as number;
      lg[i] = (lg[i] as number) + gy * Math.exp(lp) * (lp - (logq[i] as number) + 1);
    }
  });
}

/**
 * y + (x_r . u_b) lambda_b for every row r of sequence b (rows b*seq .. b*seq+seq-1): a different rank-one
 * update of one linear layer per sequence, so a batch can carry many edited matrices W + u_b lambda_b^T at
 * once (the object decoder's training). Gradients flow to y and x; u and lambda are constants.
 */
export function addRankOnePerSequence(g: Graph | null, y: Tensor, x: Tensor, u: Float32Array, lambda: Float32Array, seq: number): Tensor {
  const n = x.cols;
  const d = y.cols;
  const rows = x.rows;
  if (y.rows !== rows) throw new RangeError(`addRankOnePerSequence: ${y.rows} output rows for ${rows} input rows`);
  const sequences = rows / seq;
  if (u.length !== sequences * n || lambda.length !== sequences * d) throw new RangeError(`addRankOnePerSequence: factors for ${u.length / n} / ${lambda.length / d} sequences, batch has ${sequences}`);
  const out = Float32Array.from(y.data);
  const coef = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const b = Math.floor(r / seq);
    let s = 0;
    for (let i = 0; i < n; i++) s += (x.data[r * n + i] as number) * (u[b * n + i] as number);
    coef[r] = s;
    for (let c = 0; c < d; c++) out[r * d + c] = (out[r * d + c] as number) + s * (lambda[b * d + c] as number);
  }
  return result(g, out, y.shape, [y, x], (o) => {
    const dy = o.grad as Float32Array;
    if (g?.tracks(y)) addTo(y.gradBuffer(), dy);
    if (!g?.tracks(x)) return;
    const xg = x.gradBuffer();
    for (let r = 0; r < rows; r++) {
      const b = Math.floor(r / seq);
      let s = 0;
      for (let c = 0; c < d; c++) s += (dy[r * d + c] as number) * (lambda[b * d + c] as number);
      for (let i = 0; i < n; i++) xg[r * n + i] = (xg[r * n + i] as number) + s * (u[b * n + i] as number);
    }
  });
}

/** x with the listed rows overwritten by `values` (row-major, one row each); no gradient reaches those rows. */
export function replaceRows(g: Graph | null, x: Tensor, rows: Int32Array, values: Float32Array): Tensor {
  const d = x.cols;
  if (values.length !== rows.length * d) throw new RangeError(`replaceRows: ${values.length} values for ${rows.length} rows of ${d}`);
  const out = Float32Array.from(x.data);
  rows.forEach((r, i) => out.set(values.subarray(i * d, (i + 1) * d), r * d));
  return result(g, out, x.shape, [x], (o) => {
    if (!g?.tracks(x)) return;
    const dy = Float32Array.from(o.grad as Float32Array);
    for (const r of rows) dy.fill(0, r * d, (r + 1) * d);
    addTo(x.gradBuffer(), dy);
  });
}
