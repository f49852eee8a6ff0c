/** Median, MAD and robust z-scores: outlier tests that a single edited layer cannot drag along. */

export function median(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = finite.length >> 1;
  return finite.length % 2 ? (finite[mid] as number) : ((finite[mid - 1] as number) + (finite[mid] as number)) / 2;
}

/** Median absolute deviation from the median (unscaled). */
export function medianAbsoluteDeviation(values: readonly number[]): number {
  const m = median(values);
  return median(values.map((v) => Math.abs(v - m)));
}

/** 1.4826 * MAD estimates the standard deviation of normal data. */
export const MAD_TO_SIGMA = 1.4826;

/**
 * Robust z-score of values[i] against the OTHER values (leave-one-out): (x - median) / scale, where scale is
 * 1.4826 * MAD of the others, floored at `minScale` so that near-identical layers do not make noise look
 * like a signal. NaN when fewer than two other finite values exist.
 */
export function leaveOneOutRobustZ(values: readonly number[], i: number, minScale: (medianOfOthers: number) => number): number {
  const others = values.filter((_, j) => j !== i).filter(Number.isFinite);
  const x = values[i] as number;
  if (others.length < 2 || !Number.isFinite(x)) return Number.NaN;
  const m = median(others);
  const scale = Math.max(MAD_TO_SIGMA * medianAbsoluteDeviation(others), minScale(m));
  return (x - m) / scale;
}
