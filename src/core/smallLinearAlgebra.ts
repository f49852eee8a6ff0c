/**
 * Dense float64 linear algebra for the small matrices of randomized SVD (a few dozen columns).
 * Row-major Float64Array storage throughout.
 */
import { cholesky } from './cholesky';
import { dotProduct } from './matmul';

/**
 * Orthonormal basis of the columns of Y [m x l] in float64: CholeskyQR2 (two passes of Gram matrix,
 * Cholesky, Y R^-1) when Y is well enough conditioned, else modified Gram-Schmidt applied twice ("twice is
 * enough"), where columns that vanish (rank deficiency) become zero columns.
 */
export function orthonormalColumns(y: ArrayLike<number>, m: number, l: number): Float64Array {
  return choleskyQr2(y, m, l) ?? gramSchmidtColumns(y, m, l);
}

/**
 * A basis of Y's column space that is orthonormal to about kappa(Y)^2 x 1e-16 (one CholeskyQR round, half
 * the work): enough between power iterations, where only the subspace matters and the next product is
 * orthonormalised again. Falls back to Gram-Schmidt like orthonormalColumns.
 */
export function nearlyOrthonormalColumns(y: ArrayLike<number>, m: number, l: number): Float64Array {
  return choleskyQr2(y, m, l, 1) ?? gramSchmidtColumns(y, m, l);
}

/**
 * CholeskyQR2 (Fukaya et al. 2014): Q = Y R^-1 with R from the Cholesky factor of Y^T Y, done twice. Two
 * passes over Y per round instead of Gram-Schmidt's 2l; null when Y^T Y is not numerically positive
 * definite (a rank-deficient or badly conditioned panel), and Gram-Schmidt takes over. The panel is worked
 * on column-major, so each Gram entry is one contiguous dot product and Q = Y R^-1 a sum of scaled columns.
 */
// Two column-major work panels, kept between calls (choleskyQr2 runs to the end without yielding): a scan
// orthonormalises five panels a layer, and fresh ones each time were most of its garbage.
let work: [Float64Array, Float64Array] = [new Float64Array(0), new Float64Array(0)];

function workPanels(size: number): [Float64Array, Float64Array] {
  if ((work[0] as Float64Array).length < size) work = [new Float64Array(size), new Float64Array(size)];
  return [work[0].subarray(0, size), work[1].subarray(0, size)];
}

function choleskyQr2(y: ArrayLike<number>, m: number, l: number, rounds = 2): Float64Array | null {
  const panels = workPanels(m * l);
  let q = panels[0];
  for (let i = 0; i < m; i++) for (let a = 0; a < l; a++) q[a * m + i] = y[i * l + a] as number;
  const g = new Float64Array(l * l);
  const r = new Float64Array(l * l);
  // R^-1 transposed: row b holds column b of R^-1 (the weights of Q's column b).
  const invT = new Float64Array(l * l);
  for (let round = 0; round < rounds; round++) {
    for (let a = 0; a < l; a++) for (let b = a; b < l; b++) g[a * l + b] = dotProduct(q, a * m, q, b * m, m);
    // Cholesky G = R^T R (R = L^T upper), refusing a condition number beyond what float64 Q can carry.
    let maxDiag = 0;
    for (let a = 0; a < l; a++) maxDiag = Math.max(maxDiag, g[a * l + a] as number);
    for (let a = 0; a < l; a++) for (let b = a + 1; b < l; b++) g[b * l + a] = g[a * l + b] as number;
    const lower = cholesky(g, l, 1e-12 * maxDiag);
    if (!lower) return null;
    for (let a = 0; a < l; a++) for (let b = a; b < l; b++) r[a * l + b] = lower[b * l + a] as number;
    // R^-1 (upper triangular) by back substitution, column by column, stored transposed.
    invT.fill(0);
    for (let b = 0; b < l; b++) {
      // Solve R x = e_b for x = column b of R^-1 (x_p = 0 for p > b).
      for (let p = b; p >= 0; p--) {
        let s = p === b ? 1 : 0;
        for (let t = p + 1; t <= b; t++) s -= (r[p * l + t] as number) * (invT[b * l + t] as number);
        invT[b * l + p] = s / (r[p * l + p] as number);
      }
    }
    // Q = Y R^-1: column b of Q is the sum over p <= b of R^-1[p, b] times column p of Y.
    const next = q === panels[0] ? panels[1] : panels[0];
    next.fill(0);
    for (let b = 0; b < l; b++) {
      const ob = b * m;
      for (let p = 0; p <= b; p++) {
        const c = invT[b * l + p] as number;
        if (c === 0) continue;
        const op = p * m;
        for (let i = 0; i < m; i++) next[ob + i] = (next[ob + i] as number) + c * (q[op + i] as number);
      }
    }
    q = next;
  }
  const out = new Float64Array(m * l);
  for (let a = 0; a < l; a++) for (let i = 0; i < m; i++) out[i * l + a] = q[a * m + i] as number;
  return out;
}


/** Modified Gram-Schmidt applied twice, for panels CholeskyQR cannot take. */
function gramSchmidtColumns(y: ArrayLike<number>, m: number, l: number): Float64Array {
  // Column-major working copy: every dot product and update below walks contiguous memory.
  const cols = new Float64Array(l * m);
  for (let i = 0; i < m; i++) for (let c = 0; c < l; c++) cols[c * m + i] = y[i * l + c] as number;
  for (let c = 0; c < l; c++) {
    const col = cols.subarray(c * m, (c + 1) * m);
    const originalNorm = norm(col);
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < c; p++) {
        const prev = cols.subarray(p * m, (p + 1) * m);
        let dot = 0;
        for (let i = 0; i < m; i++) dot += (prev[i] as number) * (col[i] as number);
        for (let i = 0; i < m; i++) col[i] = (col[i] as number) - dot * (prev[i] as number);
      }
    }
    const n = norm(col);
    // A column that lost almost all of its length is numerically dependent on the earlier ones.
    const keep = n > 1e-10 * Math.max(originalNorm, Number.MIN_VALUE) && n > 0;
    for (let i = 0; i < m; i++) col[i] = keep ? (col[i] as number) / n : 0;
  }
  const q = new Float64Array(m * l);
  for (let c = 0; c < l; c++) for (let i = 0; i < m; i++) q[i * l + c] = cols[c * m + i] as number;
  return q;
}

function norm(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] as number) ** 2;
  return Math.sqrt(s);
}

export interface SymmetricEigen {
  /** Eigenvalues in descending order. */
  values: Float64Array;
  /** Eigenvectors as columns of a row-major n x n matrix, in the order of `values`. */
  vectors: Float64Array;
}

/** Eigen-decomposition of a symmetric n x n matrix by cyclic Jacobi rotations (exact to float64 for small n). */
export function symmetricEigen(matrix: ArrayLike<number>, n: number): SymmetricEigen {
  const a = Float64Array.from(matrix as ArrayLike<number>);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const x = (a[i * n + j] as number) ** 2;
        total += x;
        if (i !== j) off += x;
      }
    }
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q] as number;
        if (apq === 0) continue;
        const app = a[p * n + p] as number;
        const aqq = a[q * n + q] as number;
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p] as number;
          const akq = a[k * n + q] as number;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k] as number;
          const aqk = a[q * n + k] as number;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p] as number;
          const vkq = v[k * n + q] as number;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => (a[j * n + j] as number) - (a[i * n + i] as number));
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = a[src * n + src] as number;
    for (let k = 0; k < n; k++) vectors[k * n + dst] = v[k * n + src] as number;
  });
  return { values, vectors };
}
