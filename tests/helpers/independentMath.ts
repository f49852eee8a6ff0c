/**
 * Independent math for tests: brute-force loops and exact constructions that share no code with src/.
 */
import { SeededRandom } from '../../src/core/random';

/** pcs by the definition: mean over ordered pairs i != j of non-zero rows of cos(w_i, w_j), O(n^2 d). */
export function bruteForcePcs(data: Float32Array, rows: number, cols: number): { pcs: number; zeroRows: number } {
  const norms: number[] = [];
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += (data[i * cols + c] as number) ** 2;
    norms.push(Math.sqrt(s));
  }
  const used = norms.map((n, i) => (n > 0 ? i : -1)).filter((i) => i >= 0);
  let total = 0;
  for (const i of used) {
    for (const j of used) {
      if (i === j) continue;
      let dot = 0;
      for (let c = 0; c < cols; c++) dot += (data[i * cols + c] as number) * (data[j * cols + c] as number);
      total += dot / ((norms[i] as number) * (norms[j] as number));
    }
  }
  const n = used.length;
  return { pcs: total / (n * n - n), zeroRows: rows - n };
}

/** Brute-force cosine of two rows. */
export function bruteCosine(data: Float32Array, cols: number, i: number, j: number): number {
  let dot = 0;
  let a = 0;
  let b = 0;
  for (let c = 0; c < cols; c++) {
    const x = data[i * cols + c] as number;
    const y = data[j * cols + c] as number;
    dot += x * y;
    a += x * x;
    b += y * y;
  }
  return a > 0 && b > 0 ? dot / Math.sqrt(a * b) : 0;
}

/** Brute-force C = op(A) B in float64. */
export function bruteMatmul(a: Float32Array, m: number, n: number, b: Float32Array, l: number, transposeA: boolean): Float64Array {
  // op(A) is [p x q]
  const p = transposeA ? n : m;
  const q = transposeA ? m : n;
  const out = new Float64Array(p * l);
  for (let i = 0; i < p; i++) {
    for (let c = 0; c < l; c++) {
      let s = 0;
      for (let k = 0; k < q; k++) {
        const aik = transposeA ? (a[k * n + i] as number) : (a[i * n + k] as number);
        s += aik * (b[k * l + c] as number);
      }
      out[i * l + c] = s;
    }
  }
  return out;
}

/**
 * An n x k matrix with orthonormal columns, built as the first k columns of a product of random Householder
 * reflections (independent of the Gram-Schmidt code under test). Row-major.
 */
export function randomOrthonormal(n: number, k: number, rng: SeededRandom): Float64Array {
  const q = new Float64Array(n * k);
  for (let i = 0; i < k; i++) q[i * k + i] = 1;
  for (let r = 0; r < Math.min(n, k + 8); r++) {
    const v = Array.from({ length: n }, () => rng.gaussian());
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    for (let i = 0; i < n; i++) v[i] = (v[i] as number) / norm;
    for (let c = 0; c < k; c++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += (v[i] as number) * (q[i * k + c] as number);
      for (let i = 0; i < n; i++) q[i * k + c] = (q[i * k + c] as number) - 2 * dot * (v[i] as number);
    }
  }
  return q;
}

/** A = U diag(s) V^T with random orthonormal U [m x r], V [n x r]: a matrix whose singular values are exactly s. */
export function matrixWithSpectrum(m: number, n: number, s: readonly number[], seed: number): { data: Float32Array; u: Float64Array; v: Float64Array } {
  const rng = new SeededRandom(seed);
  const r = s.length;
  const u = randomOrthonormal(m, r, rng);
  const v = randomOrthonormal(n, r, rng);
  const data = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let x = 0;
      for (let t = 0; t < r; t++) x += (u[i * r + t] as number) * (s[t] as number) * (v[j * r + t] as number);
      data[i * n + j] = x;
    }
  }
  return { data, u, v };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

export function gaussianMatrix(rows: number, cols: number, seed: number, scale = 1): Float32Array {
  const rng = new SeededRandom(seed);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = rng.gaussian() * scale;
  return out;
}
