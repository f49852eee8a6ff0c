/**
 * Frobenius inner products of rank-one updates u lambda^T without forming them:
 * <u_i lambda_i^T, u_j lambda_j^T> = (u_i . u_j)(lambda_i . lambda_j), and with a full matrix M,
 * <M, u lambda^T> = u^T M lambda.
 */
export interface RankOneFactors {
  u: ArrayLike<number>;
  lambda: ArrayLike<number>;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`vectors of length ${a.length} and ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** [rows.length x cols.length] inner products <rows_i, cols_j> of rank-one matrices. */
export function rankOneCrossGram(rows: readonly RankOneFactors[], cols: readonly RankOneFactors[]): Float64Array {
  const out = new Float64Array(rows.length * cols.length);
  rows.forEach((a, i) => {
    cols.forEach((b, j) => {
      out[i * cols.length + j] = dot(a.u, b.u) * dot(a.lambda, b.lambda);
    });
  });
  return out;
}

/**
 * u_j^T M lambda_j for each factor pair, from M lambda_j computed elsewhere (on a GPU for large M):
 * `mTimesLambdas` is [rows(M) x count], column j = M lambda_j.
 */
export function bilinearFromProducts(mTimesLambdas: ArrayLike<number>, rows: number, factors: readonly RankOneFactors[]): Float64Array {
  const count = factors.length;
  if (mTimesLambdas.length !== rows * count) throw new RangeError(`${mTimesLambdas.length} products for ${rows} rows x ${count} factors`);
  const out = new Float64Array(count);
  factors.forEach((f, j) => {
    if (f.u.length !== rows) throw new RangeError(`u of length ${f.u.length} for a matrix of ${rows} rows`);
    let s = 0;
    for (let r = 0; r < rows; r++) s += (f.u[r] as number) * (mTimesLambdas[r * count + j] as number);
    out[j] = s;
  });
  return out;
}

/** Stacks lambdas as the columns of a [cols x count] row-major matrix (the right-hand side of M * Lambda). */
export function lambdaColumns(factors: readonly RankOneFactors[], cols: number): Float32Array {
  const out = new Float32Array(cols * factors.length);
  factors.forEach((f, j) => {
    if (f.lambda.length !== cols) throw new RangeError(`lambda of length ${f.lambda.length} for a matrix of ${cols} columns`);
    for (let c = 0; c < cols; c++) out[c * factors.length + j] = f.lambda[c] as number;
  });
  return out;
}
