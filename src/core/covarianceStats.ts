import { rowMatrix } from './matrix';
import { cpuOperator, randomizedSvd } from './randomizedSvd';
import { symmetricEigen } from './smallLinearAlgebra';

/**
 * Statistics of a covariance matrix S (n x n, row-major, float64) that say how many independent directions
 * a set of vectors (here: an MLP's keys) really uses. Used by the forge's key diagnostics.
 */

/** S = C - mu mu^T: the centred covariance from the uncentred second moment C and the mean mu. */
export function centredCovariance(moment: Float64Array, mean: ArrayLike<number>): Float64Array {
  const n = mean.length;
  if (moment.length !== n * n) throw new RangeError(`moment has ${moment.length} values for n = ${n}`);
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[i * n + j] = (moment[i * n + j] as number) - (mean[i] as number) * (mean[j] as number);
  return s;
}

/**
 * Participation ratio (sum of eigenvalues)^2 / (sum of squared eigenvalues) = tr(S)^2 / ||S||_F^2: n for an
 * isotropic S, 1 when one direction holds all the variance. No eigendecomposition needed.
 */
export function participationRatio(s: Float64Array, n: number): number {
  let trace = 0;
  let frob = 0;
  for (let i = 0; i < n; i++) trace += s[i * n + i] as number;
  for (let i = 0; i < n * n; i++) frob += (s[i] as number) ** 2;
  return frob > 0 ? (trace * trace) / frob : Number.NaN;
}

/** Share of the total variance (trace) held by the `k` largest eigenvalues of a positive semi-definite S. */
export async function topEigenvalueShare(s: Float64Array, n: number, k: number): Promise<number> {
  let trace = 0;
  for (let i = 0; i < n; i++) trace += s[i * n + i] as number;
  if (!(trace > 0)) return Number.NaN;
  const kk = Math.min(k, n);
  // For a symmetric PSD matrix the singular values are the eigenvalues.
  const svd = await randomizedSvd(cpuOperator(rowMatrix(n, n, Float32Array.from(s))), { k: kk, oversampling: 10, powerIterations: 2, tolerance: 1e-4, maxPowerIterations: 40 });
  let top = 0;
  for (let i = 0; i < kk; i++) top += svd.values[i] as number;
  return Math.min(1, top / trace);
}

/** Mean |correlation| over pairs of distinct dimensions whose variance is not zero. */
export function meanAbsCorrelation(s: Float64Array, n: number): number {
  const sd = Float64Array.from({ length: n }, (_, i) => Math.sqrt(Math.max(0, s[i * n + i] as number)));
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < n; i++) {
    if (!((sd[i] as number) > 0)) continue;
    for (let j = i + 1; j < n; j++) {
      if (!((sd[j] as number) > 0)) continue;
      sum += Math.abs((s[i * n + j] as number) / ((sd[i] as number) * (sd[j] as number)));
      pairs++;
    }
  }
  return pairs ? sum / pairs : Number.NaN;
}


/**
 * (M + floor * I)^-1/2 of a symmetric positive semi-definite n x n matrix M, with floor = relativeFloor times
 * M's largest eigenvalue (directions the data never visits are not amplified without bound). Row-major.
 */
export function inverseSquareRoot(m: ArrayLike<number>, n: number, relativeFloor: number): Float64Array {
  const { values, vectors } = symmetricEigen(m, n);
  const floor = relativeFloor * Math.max(0, values[0] as number);
  const scale = Float64Array.from(values, (v) => 1 / Math.sqrt(Math.max(v, 0) + floor));
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += (vectors[i * n + t] as number) * (scale[t] as number) * (vectors[j * n + t] as number);
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}
