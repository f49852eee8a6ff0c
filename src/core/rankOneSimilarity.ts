import type { RowMatrix } from './matrix';
import type { SingularTriplets } from './randomizedSvd';

/**
 * Paper Sec. 7.2 (Fig. 7, Tab. 5): for each rank-one piece sigma_t u_t v_t^T of the edited matrix, the
 * largest |cosine| between a row of the update dW and a row of the piece. Every non-zero row of the piece is
 * a multiple of v_t, so the pairwise maximum is max_i |cos(dW_i, v_t)|: O(rows x cols) per piece instead
 * of O(rows^2 x cols).
 */
export function rankOneSimilarity(dw: RowMatrix, svd: SingularTriplets, count = svd.k): Float64Array {
  const { rows, cols, data } = dw;
  const out = new Float64Array(Math.min(count, svd.k));
  const rowNorms = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += (data[i * cols + j] as number) ** 2;
    rowNorms[i] = Math.sqrt(s);
  }
  for (let t = 0; t < out.length; t++) {
    if (!pieceHasRows(svd, t, dw.rows)) continue;
    const v = unitColumn(svd.v, cols, svd.k, t);
    if (!v) continue;
    let best = 0;
    for (let i = 0; i < rows; i++) {
      if (!((rowNorms[i] as number) > 0)) continue;
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += (data[i * cols + j] as number) * (v[j] as number);
      best = Math.max(best, Math.abs(dot) / (rowNorms[i] as number));
    }
    out[t] = best;
  }
  return out;
}

/**
 * The same for an update given by its factors, dW = u lambda^T: every non-zero row of dW is a multiple of
 * lambda, so the similarity is |cos(lambda, v_t)| (when u is not all zero).
 */
export function rankOneSimilarityOfFactors(u: ArrayLike<number>, lambda: ArrayLike<number>, svd: SingularTriplets, count = svd.k): Float64Array {
  const out = new Float64Array(Math.min(count, svd.k));
  let uNonZero = false;
  for (let i = 0; i < u.length; i++) if ((u[i] as number) !== 0) uNonZero = true;
  let ln = 0;
  for (let j = 0; j < lambda.length; j++) ln += (lambda[j] as number) ** 2;
  ln = Math.sqrt(ln);
  if (!uNonZero || !(ln > 0)) return out;
  for (let t = 0; t < out.length; t++) {
    if (!pieceHasRows(svd, t, u.length)) continue;
    const v = unitColumn(svd.v, lambda.length, svd.k, t);
    if (!v) continue;
    let dot = 0;
    for (let j = 0; j < lambda.length; j++) dot += (lambda[j] as number) * (v[j] as number);
    out[t] = Math.abs(dot) / ln;
  }
  return out;
}

function pieceHasRows(svd: SingularTriplets, t: number, rows: number): boolean {
  if (!((svd.values[t] as number) > 0)) return false;
  for (let i = 0; i < rows; i++) if ((svd.u[i * svd.k + t] as number) !== 0) return true;
  return false;
}

function unitColumn(m: Float64Array, n: number, k: number, t: number): Float64Array | null {
  const out = new Float64Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) {
    out[i] = m[i * k + t] as number;
    s += (out[i] as number) ** 2;
  }
  if (!(s > 0)) return null;
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < n; i++) out[i] = (out[i] as number) * inv;
  return out;
}
