/** Float64 Cholesky factorisation and solves for ROME's covariance (d_ff x d_ff, symmetric positive definite). */

/**
 * Lower-triangular L with A = L L^T (only A's lower triangle is read), or null when a pivot is not above
 * `minPivot` (A not numerically positive definite at that tolerance).
 */
export function cholesky(a: Float64Array, n: number, minPivot = 0): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j] as number;
    for (let k = 0; k < j; k++) d -= (l[j * n + k] as number) ** 2;
    if (!(d > minPivot)) return null;
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j] as number;
      for (let k = 0; k < j; k++) s -= (l[i * n + k] as number) * (l[j * n + k] as number);
      l[i * n + j] = s / ljj;
    }
  }
  return l;
}

/** Solves A x = b given A's Cholesky factor. */
export function choleskySolve(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i] as number;
    for (let k = 0; k < i; k++) s -= (l[i * n + k] as number) * (y[k] as number);
    y[i] = s / (l[i * n + i] as number);
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i] as number;
    for (let k = i + 1; k < n; k++) s -= (l[k * n + i] as number) * (x[k] as number);
    x[i] = s / (l[i * n + i] as number);
  }
  return x;
}

/**
 * Factor of A, adding the smallest ridge (relative to the mean diagonal, growing x10) that makes it
 * factorable; reports the ridge used (0 when none was needed).
 */
export function robustCholesky(a: Float64Array, n: number): { factor: Float64Array; ridge: number } {
  let meanDiag = 0;
  for (let i = 0; i < n; i++) meanDiag += (a[i * n + i] as number) / n;
  for (let ridge = 0; ; ridge = ridge === 0 ? 1e-12 * meanDiag : ridge * 10) {
    const shifted = Float64Array.from(a);
    for (let i = 0; i < n; i++) shifted[i * n + i] = (shifted[i * n + i] as number) + ridge;
    const factor = cholesky(shifted, n);
    if (factor) return { factor, ridge };
    if (ridge > meanDiag) throw new Error('covariance is not positive definite even with a large ridge');
  }
}
