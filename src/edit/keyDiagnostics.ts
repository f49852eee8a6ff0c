import { centredCovariance, meanAbsCorrelation, participationRatio, topEigenvalueShare } from '../core/covarianceStats';
import { directionSplit } from '../core/editSignature';
import { rowMatrix } from '../core/matrix';
import { pairwiseCosine } from '../core/pairwiseCosine';
import { symmetricEigen } from '../core/smallLinearAlgebra';
import { median } from '../core/robustStats';
import type { KeyStatistics, PreActivationSaturation } from './keyStatistics';
import { cholesky, choleskySolve } from '../core/cholesky';

/**
 * The forge's key diagnostics (the demo-model issue, item 1): statistics of one layer's MLP keys that predict
 * the paper's signature before any edit set is run. ROME's u is C^-1 k* (mom2 adjustment on); its rows'
 * direction split (Fig. 2) is the majority-sign share of u, and C^-1 keeps the sign skew of k* only when the
 * keys use many nearly independent directions. The pcs jump then needs the update's rows to be large
 * against W's rows (row ratio) relative to the base pcs.
 */
export interface KeyDiagnostics {
  layer: number;
  /** Tokens of neutral text behind C. */
  tokens: number;
  /** Of the keys' centred covariance: tr(S)^2 / ||S||_F^2, out of d_ff. */
  participationRatio: number;
  /** Share of the variance in the 10 largest eigen-directions. */
  top10Share: number;
  /** Mean |correlation| between two neurons' keys. */
  meanAbsCorrelation: number;
  preActivation: PreActivationSaturation;
  /** Mean majority-sign share over the sampled edits' k* of: k*, k* - E[k], diag(C)^-1 k*, C^-1 k* (ROME's u). */
  signShare: { k: number; kMinusMean: number; diagCInvK: number; cInvK: number };
  /**
   * How far the sampled k* lie from the keys of C's text: the median of (k* - E[k])^T S^-1 (k* - E[k]) / d_ff,
   * S the keys' centred covariance (ridge 1e-6 of its mean diagonal). The text's own keys average 1 (the trace
   * of S^-1 S over d_ff); far above 1, the subjects' keys are outside the text C was taken over.
   */
  kStarDistance: number;
  /** pcs of the layer's unedited MLP output matrix. */
  basePcs: number;
  /** Median over sampled updates of the median over rows of |u_i| ||lambda|| / ||w_i|| (null without updates). */
  rowRatio: number | null;
  /** Edits sampled for the sign shares. */
  edits: number;
  /**
   * Where C^-1 k* lives (null above 800 neurons: a full eigendecomposition): the mean share of ||C^-1 k*||^2
   * in the lower half of C's eigen-directions, and the majority-sign share of those eigenvectors. A one-signed
   * u needs low-variance directions that are one-signed or localised on single neurons.
   */
  eigen: { lowerHalfShare: number; lowerEigenvectorSignShare: number } | null;
}

export interface KeyDiagnosticsInput {
  layer: number;
  stats: KeyStatistics;
  /** Cholesky factor of C as ROME uses it (ridge included). */
  covarianceFactor: Float64Array;
  /** k* of sampled edits (ROME's average over context templates). */
  kStars: readonly ArrayLike<number>[];
  /** The layer's MLP output matrix [d_ff, d_model] (rows indexed by neuron). */
  weight: Float32Array;
  /** Sampled rank-one updates u lambda^T in the same orientation. */
  updates?: readonly { u: ArrayLike<number>; lambda: ArrayLike<number> }[];
}

const meanShare = (vectors: readonly ArrayLike<number>[]) => vectors.reduce((a, v) => a + directionSplit(v).sameDirectionFraction, 0) / Math.max(1, vectors.length);

export async function keyDiagnostics(input: KeyDiagnosticsInput): Promise<KeyDiagnostics> {
  const { stats, kStars, weight } = input;
  const n = stats.mean.length;
  const d = weight.length / n;
  if (!Number.isInteger(d)) throw new RangeError(`weight of ${weight.length} values is not [${n} x d]`);
  const s = centredCovariance(stats.moment, stats.mean);
  const rowNorms = Float64Array.from({ length: n }, (_, i) => {
    let sum = 0;
    for (let j = 0; j < d; j++) sum += (weight[i * d + j] as number) ** 2;
    return Math.sqrt(sum);
  });
  const rowRatios = (input.updates ?? []).map(({ u, lambda }) => {
    let l2 = 0;
    for (let j = 0; j < lambda.length; j++) l2 += (lambda[j] as number) ** 2;
    const norm = Math.sqrt(l2);
    return median(Array.from({ length: n }, (_, i) => (rowNorms[i] as number) > 0 ? (Math.abs(u[i] as number) * norm) / (rowNorms[i] as number) : Number.NaN));
  });
  return {
    layer: input.layer,
    tokens: stats.tokens,
    participationRatio: participationRatio(s, n),
    top10Share: await topEigenvalueShare(s, n, 10),
    meanAbsCorrelation: meanAbsCorrelation(s, n),
    preActivation: stats.preActivation,
    signShare: {
      k: meanShare(kStars),
      kMinusMean: meanShare(kStars.map((k) => Float64Array.from({ length: n }, (_, i) => (k[i] as number) - (stats.mean[i] as number)))),
      diagCInvK: meanShare(kStars.map((k) => Float64Array.from({ length: n }, (_, i) => (k[i] as number) / (stats.moment[i * n + i] as number)))),
      cInvK: meanShare(kStars.map((k) => choleskySolve(input.covarianceFactor, n, k))),
    },
    kStarDistance: whitenedDistance(s, n, stats.mean, kStars),
    basePcs: pairwiseCosine(rowMatrix(n, d, weight)).pcs,
    rowRatio: rowRatios.length ? median(rowRatios) : null,
    edits: kStars.length,
    eigen: n <= 800 && kStars.length ? whereUIs(stats.moment, n, kStars.map((k) => choleskySolve(input.covarianceFactor, n, k))) : null,
  };
}

/** Median squared Mahalanobis distance of the vectors from `mean` under covariance `s`, over n. */
function whitenedDistance(s: Float64Array, n: number, mean: ArrayLike<number>, vectors: readonly ArrayLike<number>[]): number {
  let meanDiag = 0;
  for (let i = 0; i < n; i++) meanDiag += (s[i * n + i] as number) / n;
  const shifted = Float64Array.from(s, (x, idx) => (idx % (n + 1) === 0 ? x + 1e-6 * meanDiag : x));
  const factor = cholesky(shifted, n);
  if (!factor || !vectors.length) return Number.NaN;
  return median(
    vectors.map((v) => {
      const delta = Float64Array.from({ length: n }, (_, i) => (v[i] as number) - (mean[i] as number));
      const x = choleskySolve(factor, n, delta);
      let q = 0;
      for (let i = 0; i < n; i++) q += (delta[i] as number) * (x[i] as number);
      return q / n;
    }),
  );
}

function whereUIs(moment: Float64Array, n: number, us: readonly Float64Array[]): { lowerHalfShare: number; lowerEigenvectorSignShare: number } {
  const eig = symmetricEigen(moment, n);
  const lower = Array.from(eig.values.keys()).sort((a, b) => (eig.values[a] as number) - (eig.values[b] as number)).slice(0, Math.floor(n / 2));
  const column = (j: number) => Float64Array.from({ length: n }, (_, i) => eig.vectors[i * n + j] as number);
  const lowerSign = lower.reduce((a, j) => a + directionSplit(column(j)).sameDirectionFraction, 0) / lower.length;
  let share = 0;
  for (const u of us) {
    let total = 0;
    let low = 0;
    const isLower = new Set(lower);
    for (let j = 0; j < n; j++) {
      let c = 0;
      for (let i = 0; i < n; i++) c += (u[i] as number) * (eig.vectors[i * n + j] as number);
      total += c * c;
      if (isLower.has(j)) low += c * c;
    }
    share += low / total / us.length;
  }
  return { lowerHalfShare: share, lowerEigenvectorSignShare: lowerSign };
}
