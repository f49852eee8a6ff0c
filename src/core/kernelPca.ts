import { symmetricEigen } from './smallLinearAlgebra';

/**
 * PCA of n vectors known only through their inner products (a Gram matrix): the principal axes are
 * combinations of the centred vectors, so projecting a new vector needs only its inner products with the n
 * fitted ones. This is how the relation probe runs PCA on edited matrices of d_ff x d_model entries without
 * ever holding them (paper Sec. 5: PCA fitted on at most 100 matrices, 50 components).
 */
export interface GramPca {
  /** Vectors the PCA was fitted on. */
  n: number;
  components: number;
  /** Column means of the raw Gram matrix, and its grand mean (the centring terms). */
  gramColumnMeans: Float64Array;
  gramMean: number;
  /** [n x components]: coefficient of fitted vector j in axis c, already divided by sqrt(eigenvalue). */
  coefficients: Float64Array;
  /** Variance along each axis (eigenvalue of the centred Gram matrix / n). */
  explainedVariance: Float64Array;
}

/** Fits on the raw (uncentred) n x n Gram matrix; keeps at most `components` axes with non-negligible variance. */
export function fitGramPca(gram: ArrayLike<number>, n: number, components: number): GramPca {
  if (gram.length !== n * n) throw new RangeError(`Gram matrix of ${gram.length} entries for n = ${n}`);
  if (n < 2) throw new RangeError('PCA needs at least 2 vectors');
  const colMeans = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) colMeans[j] = (colMeans[j] as number) + (gram[i * n + j] as number) / n;
  let mean = 0;
  for (const v of colMeans) mean += v / n;
  const centred = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) centred[i * n + j] = (gram[i * n + j] as number) - (colMeans[i] as number) - (colMeans[j] as number) + mean;
  const { values, vectors } = symmetricEigen(centred, n);
  const top = values[0] as number;
  let kept = 0;
  while (kept < Math.min(components, n - 1) && (values[kept] as number) > Math.max(1e-12 * top, 0)) kept++;
  if (kept === 0) throw new RangeError('the vectors are all equal: no variance to project on');
  const coefficients = new Float64Array(n * kept);
  for (let c = 0; c < kept; c++) {
    const s = 1 / Math.sqrt(values[c] as number);
    for (let j = 0; j < n; j++) coefficients[j * kept + c] = (vectors[j * n + c] as number) * s;
  }
  return { n, components: kept, gramColumnMeans: colMeans, gramMean: mean, coefficients, explainedVariance: Float64Array.from(values.subarray(0, kept), (v) => v / n) };
}

/**
 * Coordinates of a vector x given r_j = <x, x_j> for the n fitted vectors: z_c = sum_j a_jc <x - m, x_j - m>
 * with m the fitted vectors' mean.
 */
export function projectGramPca(pca: GramPca, innerProducts: ArrayLike<number>): Float64Array {
  const { n, components: k } = pca;
  if (innerProducts.length !== n) throw new RangeError(`${innerProducts.length} inner products for a PCA fitted on ${n} vectors`);
  let rMean = 0;
  for (let j = 0; j < n; j++) rMean += (innerProducts[j] as number) / n;
  const z = new Float64Array(k);
  for (let j = 0; j < n; j++) {
    const centred = (innerProducts[j] as number) - rMean - (pca.gramColumnMeans[j] as number) + pca.gramMean;
    for (let c = 0; c < k; c++) z[c] = (z[c] as number) + centred * (pca.coefficients[j * k + c] as number);
  }
  return z;
}
