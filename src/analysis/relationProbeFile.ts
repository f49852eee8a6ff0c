import { FormatError } from '../formats/formatError';
import type { ProbeModel } from './relationProbe';

/**
 * A trained relation probe as JSON: the fitted updates' factors, the PCA, the classifier, and
 * u_j^T W lambda_j of the base matrix W it was trained against (so that a full edited matrix of that
 * base can be classified without W). Also the prompt templates of each relation, for object readout.
 */
export const PROBE_FORMAT = 'edit-forensics-relation-probe';

export interface RelationProbeFile {
  format: typeof PROBE_FORMAT;
  version: 1;
  /** Layer and [d_ff, d_model] of the matrix the probe reads. */
  layer: number;
  rows: number;
  cols: number;
  model: ProbeModel;
  baseInnerProducts: Float64Array;
  templates: Record<string, string[]>;
  /** A subject no edit mentions, for object readout prompts. */
  subject: string;
  trainedOn: { bundle: string; editsPerRelation: number };
}

export function serializeProbe(file: RelationProbeFile): string {
  const m = file.model;
  return JSON.stringify({
    format: PROBE_FORMAT,
    version: 1,
    layer: file.layer,
    rows: file.rows,
    cols: file.cols,
    relations: m.relations,
    fit: m.fit.map((f) => ({ u: Array.from(f.u), lambda: Array.from(f.lambda) })),
    pca: { n: m.pca.n, components: m.pca.components, gramColumnMeans: Array.from(m.pca.gramColumnMeans), gramMean: m.pca.gramMean, coefficients: Array.from(m.pca.coefficients), explainedVariance: Array.from(m.pca.explainedVariance) },
    featureMean: Array.from(m.featureMean),
    featureStd: Array.from(m.featureStd),
    classifier: { features: m.classifier.features, classes: m.classifier.classes, weights: Array.from(m.classifier.weights), biases: Array.from(m.classifier.biases) },
    baseInnerProducts: Array.from(file.baseInnerProducts),
    templates: file.templates,
    subject: file.subject,
    trainedOn: file.trainedOn,
  });
}

/** Parses and checks every field (a probe file may come from anywhere). Problems name the file. */
export function parseProbe(name: string, text: string): RelationProbeFile {
  const fail = (problem: string): never => {
    throw new FormatError(name, problem);
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    return fail(`is not JSON (${cause instanceof Error ? cause.message : String(cause)})`);
  }
  if (typeof raw !== 'object' || raw === null) return fail('is not a JSON object');
  const o = raw as Record<string, unknown>;
  if (o['format'] !== PROBE_FORMAT) return fail(`is not a relation probe (format is not "${PROBE_FORMAT}")`);
  if (o['version'] !== 1) return fail(`has version ${String(o['version'])}; this app reads version 1`);
  const int = (v: unknown, what: string, min = 0): number => (Number.isSafeInteger(v) && (v as number) >= min ? (v as number) : fail(`${what} must be an integer >= ${min}`));
  const numbers = (v: unknown, length: number, what: string): Float64Array => {
    if (!Array.isArray(v) || v.length !== length) return fail(`${what} must be an array of ${length} numbers`);
    const out = Float64Array.from(v as unknown[], (x) => (typeof x === 'number' && Number.isFinite(x) ? x : NaN));
    if (out.some(Number.isNaN)) fail(`${what} holds a value that is not a finite number`);
    return out;
  };
  const object = (v: unknown, what: string): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(`${what} must be an object`));
  const layer = int(o['layer'], 'layer');
  const rows = int(o['rows'], 'rows', 1);
  const cols = int(o['cols'], 'cols', 1);
  const relations = Array.isArray(o['relations']) && o['relations'].every((r) => typeof r === 'string') ? (o['relations'] as string[]) : fail('relations must be an array of strings');
  if (relations.length < 2) fail('needs at least two relations');
  const fitRaw = Array.isArray(o['fit']) ? o['fit'] : fail('fit must be an array');
  const fit = fitRaw.map((f, j) => {
    const e = object(f, `fit[${j}]`);
    return { u: Float32Array.from(numbers(e['u'], rows, `fit[${j}].u`)), lambda: Float32Array.from(numbers(e['lambda'], cols, `fit[${j}].lambda`)) };
  });
  const n = fit.length;
  if (n < 2) fail('fit must hold at least two updates');
  const pcaRaw = object(o['pca'], 'pca');
  if (pcaRaw['n'] !== n) fail(`pca.n must equal the ${n} fitted updates`);
  const components = int(pcaRaw['components'], 'pca.components', 1);
  if (components > n) fail('pca.components exceeds the fitted updates');
  const pca = {
    n,
    components,
    gramColumnMeans: numbers(pcaRaw['gramColumnMeans'], n, 'pca.gramColumnMeans'),
    gramMean: typeof pcaRaw['gramMean'] === 'number' && Number.isFinite(pcaRaw['gramMean']) ? pcaRaw['gramMean'] : fail('pca.gramMean must be a finite number'),
    coefficients: numbers(pcaRaw['coefficients'], n * components, 'pca.coefficients'),
    explainedVariance: numbers(pcaRaw['explainedVariance'], components, 'pca.explainedVariance'),
  };
  const cls = object(o['classifier'], 'classifier');
  if (cls['features'] !== components) fail('classifier.features must equal pca.components');
  if (cls['classes'] !== relations.length) fail('classifier.classes must equal the number of relations');
  const classifier = { features: components, classes: relations.length, weights: numbers(cls['weights'], components * relations.length, 'classifier.weights'), biases: numbers(cls['biases'], relations.length, 'classifier.biases') };
  const featureStd = numbers(o['featureStd'], components, 'featureStd');
  if (featureStd.some((s) => !(s > 0))) fail('featureStd must be positive');
  const templatesRaw = object(o['templates'] ?? {}, 'templates');
  const templates: Record<string, string[]> = {};
  for (const [r, list] of Object.entries(templatesRaw)) {
    if (!Array.isArray(list) || !list.every((t) => typeof t === 'string' && t.includes('{}'))) fail(`templates.${r} must be an array of strings with "{}"`);
    templates[r] = list as string[];
  }
  const trainedOn = object(o['trainedOn'] ?? {}, 'trainedOn');
  const subject = typeof o['subject'] === 'string' && o['subject'].trim() !== '' ? o['subject'] : fail('subject must be a non-empty string');
  return {
    format: PROBE_FORMAT,
    version: 1,
    layer,
    rows,
    cols,
    model: { relations, fit, pca, featureMean: numbers(o['featureMean'], components, 'featureMean'), featureStd, classifier },
    baseInnerProducts: numbers(o['baseInnerProducts'], n, 'baseInnerProducts'),
    templates,
    subject,
    trainedOn: { bundle: String(trainedOn['bundle'] ?? ''), editsPerRelation: Number(trainedOn['editsPerRelation'] ?? 0) },
  };
}
