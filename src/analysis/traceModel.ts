import { screenEntries } from '../core/entryScreen';
import type { MatrixBackend } from '../core/matrixBackend';
import { rowMatrix, subtract } from '../core/matrix';
import type { ByteSource } from '../formats/byteSource';
import type { Checkpoint } from '../formats/checkpoint';
import { FormatError } from '../formats/formatError';
import type { TextTokenizer } from '../lm/tokenizer';
import { ENGINE_FAMILIES, loadEngineModel } from './engineModel';
import { locateLayer, readLayerRows } from './layerMatrix';
import { decodeModel } from './objectDecoder';
import { readObjectDecoder } from './objectDecoderFile';
import { topIndices } from '../core/ranking';
import { inferObject, PROBE_TEMPLATES, readoutContext } from './objectReadout';
import { classifyFeatures, pcaOfMatrix } from './relationProbe';
import type { RelationProbeFile } from './relationProbeFile';
import { accurateTopTriplets } from './reversal';

/** Tracing one flagged layer of a checkpoint (paper Sec. 5-6): which relation, which new object. */
export interface TraceRequest {
  checkpoint: Checkpoint;
  /** The unedited model: the update is then exactly W' - W. */
  original: Checkpoint | null;
  layer: number;
  tokenizer: TextTokenizer | null;
  probe: RelationProbeFile | null;
  decoder: ByteSource | null;
  backend: MatrixBackend;
  checkpointHook?: () => void;
  onProgress?: (message: string) => void;
  /** The layer's matrices ([d_ff x d_model]) when the caller holds them already (the page's session). */
  preloaded?: { own: Float32Array; original: Float32Array | null };
}

export interface Candidate {
  token: number;
  text: string;
  score: number;
}

export interface TraceResult {
  layer: number;
  relation: { relation: string; probability: number }[] | null;
  /** Where u and lambda came from: the exact diff, or W' alone (its top singular pair, less reliable). */
  updateFrom: 'diff' | 'matrix';
  sigma1: number;
  trainingFree: null | { candidates: Candidate[]; relation: string; sign: 1 | -1 };
  decoder: null | { candidates: Candidate[]; tunedLayer: number };
  notes: string[];
}

/** Templates per relation used by the training-free readout in the app (the experiments measured 2). */
export const READOUT_TEMPLATES_PER_RELATION = 2;

/** Rows and columns of a layer's matrix in the analyses' [d_ff, d_model] orientation, from its tensor's shape. */
function locatedShape(checkpoint: Checkpoint, layer: number): { rows: number; cols: number } {
  const { family, info } = locateLayer(checkpoint, layer);
  const [a, b] = info.shape as [number, number];
  return family.rowsAxis === 0 ? { rows: a, cols: b } : { rows: b, cols: a };
}

export async function traceLayer(request: TraceRequest): Promise<TraceResult> {
  const { checkpoint, layer, probe, backend } = request;
  const progress = request.onProgress ?? (() => undefined);
  const notes: string[] = [];
  progress(`reading layer ${layer}`);
  const own = request.preloaded ? { ...locatedShape(checkpoint, layer), data: request.preloaded.own } : await readLayerRows(checkpoint, layer, { checkpoint: request.checkpointHook });
  // Non-finite or planted huge entries would make every probability NaN: screened as the scan does (a copy).
  const m = rowMatrix(own.rows, own.cols, Float32Array.from(own.data));
  const screen = screenEntries(m);
  if (screen.nonFinite + screen.outliers > 0) notes.push(`Layer ${layer} has ${screen.nonFinite} non-finite and ${screen.outliers} outlier entries; they were set to zero for the trace.`);

  let relation: TraceResult['relation'] = null;
  if (probe) {
    if (probe.rows !== own.rows || probe.cols !== own.cols) throw new FormatError(checkpoint.label, `layer ${layer}'s matrix is ${own.rows} x ${own.cols}; the probe was trained on ${probe.rows} x ${probe.cols} matrices of another model`);
    if (probe.layer !== layer) notes.push(`The probe was trained on edits at layer ${probe.layer}; this is layer ${layer}.`);
    progress('relation probe');
    const loaded = await backend.load(m);
    try {
      const probabilities = classifyFeatures(probe.model, await pcaOfMatrix(probe.model, loaded, probe.baseInnerProducts));
      relation = probe.model.relations.map((r, i) => ({ relation: r, probability: probabilities[i] as number })).sort((a, b) => b.probability - a.probability);
    } finally {
      loaded.release();
    }
  } else notes.push('No relation probe loaded: train one on an edit bundle (Trace tab) or pass --probe.');

  progress('the update');
  let updateFrom: TraceResult['updateFrom'] = 'matrix';
  let target = m;
  const base = request.preloaded ? request.preloaded.original : request.original ? (await readLayerRows(request.original, layer, { checkpoint: request.checkpointHook })).data : null;
  if (base) {
    if (base.length !== own.data.length) throw new FormatError(request.original?.label ?? '(original)', `layer ${layer}'s matrix has another shape than the model's: not its original`);
    const original = rowMatrix(own.rows, own.cols, Float32Array.from(base));
    screenEntries(original);
    target = subtract(m, original);
    updateFrom = 'diff';
  } else notes.push("No original model: the update is taken as W''s top singular pair, which mixes in W's own top direction (measured: weaker readout).");
  const svd = await accurateTopTriplets(backend, target, 1, request.checkpointHook);
  const sigma1 = svd.values[0] as number;
  const u = Float32Array.from({ length: own.rows }, (_, i) => svd.u[i] as number);
  const lambda = Float32Array.from({ length: own.cols }, (_, i) => sigma1 * (svd.v[i] as number));

  let trainingFree: TraceResult['trainingFree'] = null;
  let decoder: TraceResult['decoder'] = null;
  const tokenizer = request.tokenizer;
  if (!tokenizer) notes.push('No tokenizer.json next to the weights: object inference needs it.');
  else if (!(ENGINE_FAMILIES as readonly string[]).includes(checkpoint.config?.modelType ?? '')) notes.push(`Object inference runs on the CPU engine's families (${ENGINE_FAMILIES.join(', ')}); this model is another family.`);
  else {
    try {
      ({ trainingFree, decoder } = await readObjects(request, tokenizer, u, lambda, notes, progress));
    } catch (error) {
      // Too large for the CPU engine: the relation result still stands. A bad file the user gave (the
      // decoder, the probe's templates) is bad input like any other (CLI exit 2).
      if (!(error instanceof FormatError) || error.file === request.decoder?.name || error.file === PROBE_TEMPLATES) throw error;
      notes.push(`Object inference skipped: ${error.message}`);
    }
  }
  return { layer, relation, updateFrom, sigma1, trainingFree, decoder, notes };
}

/** The training-free readout and, when given, the trained decoder, in the CPU engine. */
async function readObjects(request: TraceRequest, tokenizer: TextTokenizer, u: Float32Array, lambda: Float32Array, notes: string[], progress: (message: string) => void): Promise<Pick<TraceResult, 'trainingFree' | 'decoder'>> {
  const { checkpoint, layer, probe } = request;
  let trainingFree: TraceResult['trainingFree'] = null;
  let decoder: TraceResult['decoder'] = null;
  progress('loading the model into the CPU engine');
  const { model, gpt2 } = await loadEngineModel(checkpoint, request.checkpointHook);
  const text = (id: number) => tokenizer.decode([id]).trim() || tokenizer.tokenText(id);
  const templates = probe ? new Map(Object.entries(probe.templates).map(([r, list]) => [r, list.slice(0, READOUT_TEMPLATES_PER_RELATION)])) : new Map<string, string[]>();
  if (!gpt2) notes.push('The training-free readout runs on GPT-2 models (it writes a value into the CPU engine’s GPT-2 forward); the trained decoder runs on every engine family.');
  else if (templates.size > 0 && probe) {
    progress('training-free readout');
    const ctx = readoutContext(gpt2.config, gpt2.params, layer, tokenizer, [], templates, probe.subject);
    const inferred = inferObject(ctx, u, lambda, 5, true);
    trainingFree = { candidates: inferred.candidates.map((c) => ({ ...c, text: text(c.token) })), relation: inferred.relation, sign: inferred.sign };
  } else notes.push('The training-free readout needs prompt templates per relation: they come with a relation probe.');
  if (request.decoder) {
    progress('trained decoder');
    const d = await readObjectDecoder(request.decoder, model);
    if (d.editLayer !== layer) notes.push(`The decoder was trained for edits at layer ${d.editLayer}; this is layer ${layer}.`);
    const logp = decodeModel(model, d);
    decoder = { candidates: topIndices(logp, 5).map((t) => ({ token: t, text: text(t), score: Math.exp(logp[t] as number) })), tunedLayer: d.tunedLayer };
  }
  return { trainingFree, decoder };
}
