import { fitGramPca, type GramPca, projectGramPca } from '../core/kernelPca';
import { fitLogistic, type LogisticModel, predictProbabilities } from '../core/logisticRegression';
import { argmax } from '../core/ranking';
import type { LinearOperator } from '../core/randomizedSvd';
import { bilinearFromProducts, lambdaColumns, type RankOneFactors, rankOneCrossGram } from '../core/rankOneInnerProducts';

/**
 * The relation probe of paper Sec. 5: PCA of edited matrices (fitted on at most 100 of them, equally spread
 * over the relations) to 50 dimensions, then multinomial logistic regression. Every edited matrix is
 * W + u lambda^T with one W, so centring removes W and the PCA needs only inner products of updates, given
 * exactly by (u_i . u_j)(lambda_i . lambda_j). A full edited matrix M (a dropped checkpoint's layer) enters
 * through <M - W, u_j lambda_j^T> = u_j^T M lambda_j - u_j^T W lambda_j: one product M Lambda on the matrix
 * backend (WebGPU where there is one) and constants stored with the probe.
 */
export interface ProbeEdit extends RankOneFactors {
  relation: string;
}

export interface ProbeSettings {
  /** PCA dimensions (paper: 50). */
  components: number;
  /** Most matrices the PCA is fitted on, spread equally over the relations (paper: 100). */
  maxFitMatrices: number;
  /** Inverse L2 strength of the logistic regression. */
  c: number;
}

export const DEFAULT_PROBE_SETTINGS: ProbeSettings = { components: 50, maxFitMatrices: 100, c: 1 };

/** A fitted probe: PCA over `fit` updates, feature standardisation, classifier over `relations`. */
export interface ProbeModel {
  relations: string[];
  fit: RankOneFactors[];
  pca: GramPca;
  /** Per-feature mean and standard deviation of the training features (PCA axes differ in scale by orders). */
  featureMean: Float64Array;
  featureStd: Float64Array;
  classifier: LogisticModel;
}

/** The training edits the PCA is fitted on: floor(max / relations) of each relation, in order. */
export function pcaFitSubset(train: readonly ProbeEdit[], relations: readonly string[], maxFit: number): ProbeEdit[] {
  const per = Math.max(1, Math.floor(maxFit / relations.length));
  return relations.flatMap((r) => train.filter((e) => e.relation === r).slice(0, per));
}

function standardise(features: Float64Array[], mean: Float64Array, std: Float64Array): Float64Array {
  const p = mean.length;
  const out = new Float64Array(features.length * p);
  features.forEach((f, i) => {
    for (let c = 0; c < p; c++) out[i * p + c] = ((f[c] as number) - (mean[c] as number)) / (std[c] as number);
  });
  return out;
}

/** PCA coordinates of updates given as factors (exact identity; no matrix is formed). */
export function pcaOfUpdates(pca: GramPca, fit: readonly RankOneFactors[], edits: readonly RankOneFactors[]): Float64Array[] {
  const cross = rankOneCrossGram(edits, fit);
  return edits.map((_, i) => projectGramPca(pca, cross.subarray(i * fit.length, (i + 1) * fit.length)));
}

export function fitProbe(train: readonly ProbeEdit[], relations: readonly string[], settings: ProbeSettings = DEFAULT_PROBE_SETTINGS): ProbeModel {
  if (relations.length < 2) throw new RangeError('a relation probe needs at least two relations');
  const fit = pcaFitSubset(train, relations, settings.maxFitMatrices);
  const pca = fitGramPca(rankOneCrossGram(fit, fit), fit.length, settings.components);
  const features = pcaOfUpdates(pca, fit, train);
  const p = pca.components;
  const mean = new Float64Array(p);
  const std = new Float64Array(p);
  for (const f of features) for (let c = 0; c < p; c++) mean[c] = (mean[c] as number) + (f[c] as number) / features.length;
  for (const f of features) for (let c = 0; c < p; c++) std[c] = (std[c] as number) + ((f[c] as number) - (mean[c] as number)) ** 2 / features.length;
  for (let c = 0; c < p; c++) std[c] = Math.sqrt(std[c] as number) || 1;
  const labels = Int32Array.from(train, (e) => {
    const k = relations.indexOf(e.relation);
    if (k < 0) throw new RangeError(`training edit of relation ${e.relation}, not among the probe's relations`);
    return k;
  });
  const classifier = fitLogistic(standardise(features, mean, std), train.length, p, labels, relations.length, { c: settings.c });
  return { relations: [...relations], fit: fit.map(({ u, lambda }) => ({ u, lambda })), pca, featureMean: mean, featureStd: std, classifier };
}

/** Class probabilities from PCA coordinates. */
export function classifyFeatures(model: ProbeModel, features: Float64Array): Float64Array {
  return predictProbabilities(model.classifier, standardise([features], model.featureMean, model.featureStd));
}

/** Predicted relation index of each update. */
export function predictUpdates(model: ProbeModel, edits: readonly RankOneFactors[]): number[] {
  return pcaOfUpdates(model.pca, model.fit, edits).map((f) => argmax(classifyFeatures(model, f)));
}

/**
 * <M, u_j lambda_j^T> for every fitted update, M [d_ff x d_model] behind a linear operator: one M * Lambda
 * product (on the GPU when the operator lives there), then d_ff-long dot products.
 */
export async function matrixInnerProducts(op: LinearOperator, fit: readonly RankOneFactors[]): Promise<Float64Array> {
  const products = await op.multiply(lambdaColumns(fit, op.cols), fit.length);
  return bilinearFromProducts(products, op.rows, fit);
}

/**
 * PCA coordinates of a full edited matrix M, given u_j^T W lambda_j of the base matrix W: the projection of
 * M - W, i.e. of whatever update M carries relative to the base the probe was trained on.
 */
export async function pcaOfMatrix(model: ProbeModel, op: LinearOperator, baseInnerProducts: ArrayLike<number>): Promise<Float64Array> {
  const r = await matrixInnerProducts(op, model.fit);
  if (baseInnerProducts.length !== r.length) throw new RangeError(`${baseInnerProducts.length} base inner products for ${r.length} fitted updates`);
  for (let j = 0; j < r.length; j++) r[j] = (r[j] as number) - (baseInnerProducts[j] as number);
  return projectGramPca(model.pca, r);
}
