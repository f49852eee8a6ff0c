import { multiply, multiplyTransposed } from './matmul';
import type { RowMatrix } from './matrix';
import { SeededRandom } from './random';
import { nearlyOrthonormalColumns, orthonormalColumns, symmetricEigen } from './smallLinearAlgebra';

/**
 * What randomized SVD needs of a matrix A [rows x cols]: products with thin panels. The CPU implements it
 * over a Float32Array, the GPU over buffers that stay on the device between products.
 */
export interface LinearOperator {
  readonly rows: number;
  readonly cols: number;
  /** A * B, B [cols x l] row-major; returns [rows x l]. */
  multiply(b: Float32Array, l: number): Promise<Float32Array>;
  /** A^T * B, B [rows x l] row-major; returns [cols x l]. */
  multiplyTransposed(b: Float32Array, l: number): Promise<Float32Array>;
}

/**
 * diag(scale) A without forming it: (D A) B = D (A B) and (D A)^T B = A^T (D B), both on thin panels. A scan
 * takes the spectrum of the row-normalised matrix this way (scale = 1 / row norm, 0 for a zero row) instead
 * of writing every entry of a layer again.
 */
export function rowScaledOperator(a: LinearOperator, scale: Float32Array): LinearOperator {
  if (scale.length < a.rows) throw new Error(`rowScaledOperator: ${scale.length} scales for ${a.rows} rows`);
  return {
    rows: a.rows,
    cols: a.cols,
    async multiply(b, l) {
      const out = await a.multiply(b, l);
      for (let i = 0; i < a.rows; i++) {
        const s = scale[i] as number;
        for (let j = i * l, end = j + l; j < end; j++) out[j] = (out[j] as number) * s;
      }
      return out;
    },
    async multiplyTransposed(b, l) {
      const scaled = new Float32Array(a.rows * l);
      for (let i = 0; i < a.rows; i++) {
        const s = scale[i] as number;
        for (let j = i * l, end = j + l; j < end; j++) scaled[j] = (b[j] as number) * s;
      }
      return a.multiplyTransposed(scaled, l);
    },
  };
}

export interface RandomizedSvdOptions {
  /** Number of singular triplets wanted. */
  k: number;
  /** Extra random directions beyond k (Halko et al. suggest 5-10). */
  oversampling?: number;
  /** Subspace (power) iterations; each sharpens a decaying spectrum's gaps. */
  powerIterations?: number;
  seed?: number;
  /**
   * When set, power iterations continue (up to `maxPowerIterations`) until every returned triplet has
   * ||A v_i - sigma_i u_i|| <= tolerance * sigma_i: flat spectra need many more than the default two.
   */
  tolerance?: number;
  maxPowerIterations?: number;
  /** Called between products; throw from it to cancel. */
  checkpoint?: () => void;
}

export interface SingularTriplets {
  /** Singular values, descending, length k. */
  values: Float64Array;
  /** Left singular vectors as columns: [rows x k] row-major. */
  u: Float64Array;
  /** Right singular vectors as columns: [cols x k] row-major. */
  v: Float64Array;
  k: number;
  /** Power iterations run (more than asked when a tolerance had to be met). */
  powerIterations: number;
  /** max_i ||A v_i - sigma_i u_i|| / sigma_i, when a tolerance was given. */
  relativeResidual?: number;
}

/** A CPU operator over a row-major matrix (the reference of the GPU operator). */
export function cpuOperator(m: RowMatrix): LinearOperator {
  return {
    rows: m.rows,
    cols: m.cols,
    multiply: async (b, l) => multiply(m.data, m.rows, m.cols, b, l),
    multiplyTransposed: async (b, l) => multiplyTransposed(m.data, m.rows, m.cols, b, l),
  };
}

/**
 * Top-k singular triplets by randomized range finding (Halko, Martinsson, Tropp 2011, Alg. 4.4 + 5.1).
 * Large products go through the operator; orthonormalisation and the small SVD run in float64 here,
 * where they are exact and cheap (the panel has k + oversampling columns).
 */
export async function randomizedSvd(op: LinearOperator, options: RandomizedSvdOptions): Promise<SingularTriplets> {
  const { rows, cols } = op;
  const maxRank = Math.min(rows, cols);
  const k = Math.min(options.k, maxRank);
  if (k < 1) throw new RangeError(`randomized SVD needs k >= 1 and a non-empty matrix (got k=${options.k}, ${rows} x ${cols})`);
  const l = Math.min(maxRank, k + (options.oversampling ?? 10));
  const power = options.powerIterations ?? 2;
  const rng = new SeededRandom(options.seed ?? 0x5eed);
  const tick = options.checkpoint ?? (() => undefined);

  const omega = rng.gaussianArray(cols * l);
  // Between power iterations a basis need only span the panel (one CholeskyQR round); the Q that B = Q^T A
  // is taken from must be orthonormal (two rounds).
  const basis = (last: boolean) => (last ? orthonormalColumns : nearlyOrthonormalColumns);
  let q = basis(power === 0)(await op.multiply(omega, l), rows, l);
  for (let it = 0; it < power; it++) {
    tick();
    const z = nearlyOrthonormalColumns(await op.multiplyTransposed(Float32Array.from(q), l), cols, l);
    tick();
    q = basis(it === power - 1)(await op.multiply(Float32Array.from(z), l), rows, l);
  }
  let iterations = power;
  const maxIterations = Math.max(power, options.maxPowerIterations ?? 100);
  for (;;) {
    tick();
    // B^T = A^T Q is [cols x l]; B = Q^T A is [l x cols].
    const bt = await op.multiplyTransposed(Float32Array.from(q), l);
    const triplets = tripletsFromPanel(q, bt, rows, cols, l, k);
    if (options.tolerance === undefined) return { ...triplets, powerIterations: iterations };
    const residual = await relativeResidual(op, triplets);
    if (residual <= options.tolerance || iterations >= maxIterations) return { ...triplets, powerIterations: iterations, relativeResidual: residual };
    // One more power iteration, reusing A^T Q.
    tick();
    q = orthonormalColumns(await op.multiply(Float32Array.from(nearlyOrthonormalColumns(bt, cols, l)), l), rows, l);
    iterations++;
  }
}

/** Singular triplets of A from an orthonormal panel Q [rows x l] and B^T = A^T Q. */
function tripletsFromPanel(q: Float64Array, bt: Float32Array, rows: number, cols: number, l: number, k: number): Omit<SingularTriplets, 'powerIterations'> {
  // Gram matrix G = B B^T [l x l] in float64; its eigenpairs give B's singular values and left vectors.
  const gram = new Float64Array(l * l);
  for (let j = 0; j < cols; j++) {
    for (let a = 0; a < l; a++) {
      const x = bt[j * l + a] as number;
      if (x === 0) continue;
      for (let b = a; b < l; b++) gram[a * l + b] = (gram[a * l + b] as number) + x * (bt[j * l + b] as number);
    }
  }
  for (let a = 0; a < l; a++) for (let b = 0; b < a; b++) gram[a * l + b] = gram[b * l + a] as number;
  const eig = symmetricEigen(gram, l);

  const values = new Float64Array(k);
  const u = new Float64Array(rows * k);
  const v = new Float64Array(cols * k);
  for (let t = 0; t < k; t++) {
    const sigma = Math.sqrt(Math.max(0, eig.values[t] as number));
    values[t] = sigma;
    // u_t = Q * w_t, with w_t the t-th eigenvector of G.
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let a = 0; a < l; a++) s += (q[i * l + a] as number) * (eig.vectors[a * l + t] as number);
      u[i * k + t] = s;
    }
    // v_t = B^T w_t / sigma_t.
    if (sigma > 0) {
      for (let j = 0; j < cols; j++) {
        let s = 0;
        for (let a = 0; a < l; a++) s += (bt[j * l + a] as number) * (eig.vectors[a * l + t] as number);
        v[j * k + t] = s / sigma;
      }
    }
  }
  canonicalizeSigns(u, v, rows, cols, k);
  return { values, u, v, k };
}

/**
 * max_i ||A v_i - sigma_i u_i|| / sigma_i. (A^T u_i = sigma_i v_i holds by construction, since v_i is
 * computed as A^T u_i / sigma_i.) Zero singular values count as exact.
 */
async function relativeResidual(op: LinearOperator, t: Omit<SingularTriplets, 'powerIterations'>): Promise<number> {
  const av = await op.multiply(Float32Array.from(t.v), t.k);
  let worst = 0;
  for (let c = 0; c < t.k; c++) {
    const sigma = t.values[c] as number;
    if (!(sigma > 0)) continue;
    let s = 0;
    for (let i = 0; i < op.rows; i++) s += ((av[i * t.k + c] as number) - sigma * (t.u[i * t.k + c] as number)) ** 2;
    worst = Math.max(worst, Math.sqrt(s) / sigma);
  }
  return worst;
}

/**
 * Singular vectors are defined up to a joint sign flip. Fix it so that u's entries sum to a non-negative
 * number: then "the majority's way" of u reads the same on every backend.
 */
function canonicalizeSigns(u: Float64Array, v: Float64Array, rows: number, cols: number, k: number): void {
  for (let t = 0; t < k; t++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += u[i * k + t] as number;
    if (s >= 0) continue;
    for (let i = 0; i < rows; i++) u[i * k + t] = -(u[i * k + t] as number);
    for (let j = 0; j < cols; j++) v[j * k + t] = -(v[j * k + t] as number);
  }
}

/** Column t of a row-major [n x k] matrix. */
export function column(m: Float64Array, n: number, k: number, t: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = m[i * k + t] as number;
  return out;
}
