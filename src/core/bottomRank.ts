import type { RowMatrix } from './matrix';
import type { SingularTriplets } from './randomizedSvd';

/**
 * Subtracts sigma_t u_t v_t^T from `m` in place (paper Sec. 7: the edit sits in the top components, so
 * dropping them is the reversal).
 */
export function subtractComponent(m: RowMatrix, svd: SingularTriplets, t: number): void {
  if (t < 0 || t >= svd.k) throw new RangeError(`component ${t} is outside the ${svd.k} computed`);
  const { rows, cols, data } = m;
  const sigma = svd.values[t] as number;
  const v = new Float64Array(cols);
  for (let j = 0; j < cols; j++) v[j] = sigma * (svd.v[j * svd.k + t] as number);
  for (let i = 0; i < rows; i++) {
    const ui = svd.u[i * svd.k + t] as number;
    if (ui === 0) continue;
    const row = i * cols;
    for (let j = 0; j < cols; j++) data[row + j] = (data[row + j] as number) - ui * (v[j] as number);
  }
}

/**
 * W~(r, k) = W - sum_{t < k} sigma_t u_t v_t^T for k = 0..maxK, one after another in a single extra copy of
 * W: each yielded matrix is overwritten by the next, so use it (or copy it) before asking for the next.
 */
export function* bottomRankSeries(w: RowMatrix, svd: SingularTriplets, maxK: number): Generator<{ k: number; matrix: RowMatrix }> {
  if (maxK > svd.k) throw new RangeError(`asked for k up to ${maxK} but only ${svd.k} singular triplets were computed`);
  const work: RowMatrix = { rows: w.rows, cols: w.cols, data: Float32Array.from(w.data) };
  yield { k: 0, matrix: work };
  for (let k = 1; k <= maxK; k++) {
    subtractComponent(work, svd, k - 1);
    yield { k, matrix: work };
  }
}

/** W~(r, k) alone, as a new matrix. */
export function dropTopComponents(w: RowMatrix, svd: SingularTriplets, k: number): RowMatrix {
  let last: RowMatrix | null = null;
  for (const step of bottomRankSeries(w, svd, k)) last = step.matrix;
  return last as RowMatrix;
}
