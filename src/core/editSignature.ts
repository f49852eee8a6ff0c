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

/** Histogram of values into `bins` equal bins over [min, max]: for charts of u. */
export function histogram(values: ArrayLike<number>, bins: number): { edges: number[]; counts: number[] } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const x = values[i] as number;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  if (!(max > min)) {
    min = Number.isFinite(min) ? min - 0.5 : -0.5;
    max = min + 1;
  }
  const counts = new Array<number>(bins).fill(0);
  const width = (max - min) / bins;
  for (let i = 0; i < values.length; i++) {
    const b = Math.min(bins - 1, Math.floor(((values[i] as number) - min) / width));
    counts[b] = (counts[b] as number) + 1;
  }
  const edges = Array.from({ length: bins + 1 }, (_, i) => min + i * width);
  return { edges, counts };
}
