/**
 * The paper's direction split (Sec. 4.1, Fig. 2): the rows of a rank-one update u * lambda^T are u_i * lambda,
 * so they point one of two opposite ways, decided by the sign of u_i.
 */
export interface DirectionSplit {
  /** Fraction of non-zero entries of u sharing the majority sign. */
  sameDirectionFraction: number;
  positive: number;
  negative: number;
  zero: number;
}

export function directionSplit(u: ArrayLike<number>): DirectionSplit {
  let positive = 0;
  let negative = 0;
  let zero = 0;
  for (let i = 0; i < u.length; i++) {
    const x = u[i] as number;
    if (x > 0) positive++;
    else if (x < 0) negative++;
    else zero++;
  }
  const nonzero = positive + negative;
  return {
    sameDirectionFraction: nonzero === 0 ? Number.NaN : Math.max(positive, negative) / nonzero,
    positive,
    negative,
    zero,
  };
}

/** Share of the squared Frobenius norm carried by the top singular value: sigma1^2 / sum of sigma^2. */
export function rankOneShare(sigma1: number, frobeniusNorm: number): number {
  return frobeniusNorm > 0 ? Math.min(1, (sigma1 * sigma1) / (frobeniusNorm * frobeniusNorm)) : Number.NaN;
}

/** Relative floor under which a singular value of an update counts as float noise (float32 weights: ~1e-7). */
export const RANK_TOLERANCE = 1e-3;

/**
 * Numerical rank from singular values (descending): how many exceed `relative` x sigma_1. For W' - W after n
 * sequential rank-one edits this counts the edits (their u's are independent). Returns `sigma.length` when
 * every computed value counts (the rank is then at least that).
 */
export function numericalRank(sigma: ArrayLike<number>, relative = RANK_TOLERANCE): number {
  const top = sigma[0] ?? 0;
  if (!(top > 0)) return 0;
  let rank = 0;
  for (let i = 0; i < sigma.length; i++) if ((sigma[i] as number) > relative * top) rank++;
  return rank;
}

/**
 * Histogram of values into `bins` equal bins: for charts of u. The range is the 0.5th..99.5th percentile (so
 * one outlier entry cannot squeeze every other value into a bin or two), widened to include zero, which
 * separates the two directions; values outside it are counted in the end bins and reported as `clipped`.
 */
export function histogram(values: ArrayLike<number>, bins: number): { edges: number[]; counts: number[]; clipped: number } {
  const finite = Array.from(values as ArrayLike<number>).filter(Number.isFinite).sort((a, b) => a - b);
  let min = finite.length ? (finite[Math.floor(0.005 * (finite.length - 1))] as number) : -0.5;
  let max = finite.length ? (finite[Math.ceil(0.995 * (finite.length - 1))] as number) : 0.5;
  min = Math.min(min, 0);
  max = Math.max(max, 0);
  if (!(max > min)) {
    min -= 0.5;
    max = min + 1;
  }
  const counts = new Array<number>(bins).fill(0);
  const width = (max - min) / bins;
  let clipped = 0;
  for (const x of finite) {
    if (x < min || x > max) clipped++;
    const b = Math.max(0, Math.min(bins - 1, Math.floor((x - min) / width)));
    counts[b] = (counts[b] as number) + 1;
  }
  const edges = Array.from({ length: bins + 1 }, (_, i) => min + i * width);
  return { edges, counts, clipped };
}
