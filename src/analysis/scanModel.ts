import { directionSplit, type DirectionSplit, histogram, numericalRank, rankOneShare } from '../core/editSignature';
import { explainVerdict, judgeLayers, type LayerSignals, type LayerVerdict } from '../core/editVerdict';
import { keyWhitener, whitenedGaps } from '../core/keyWhitening';
import { type EntryScreen, normalizeRows, screenEntries } from '../core/entryScreen';
import type { MatrixBackend } from '../core/matrixBackend';
import { frobeniusNorm, type RowMatrix, rowMatrix } from '../core/matrix';
import { column, randomizedSvd, rowScaledOperator } from '../core/randomizedSvd';
import type { Checkpoint } from '../formats/checkpoint';
import { CancelledError, FormatError } from '../formats/formatError';
import { readTensorRows } from '../formats/tensorReader';
import { layerReads } from './layerReads';
import type { LayerMatrix, ModelFamily } from '../families/modelFamily';
import { detectFamily, type FamilyMatch } from '../families/registry';
import { capacityRefusal, languageModelNeeds, type ModelNeeds, type RuntimePlan, runtimePlan } from '../lm/modelNeeds';
import { type PageRuntimeChoice, pageRuntimeChoice } from '../lm/pageRuntime';
import { finiteOrNull, type ReportDiffLayer, type ReportLayer, type ScanReport } from './scanReport';
import { readMlpKeyModel } from './mlpKeyModel';
import type { ScanTiming } from './scanTiming';

export interface ScanOptions {
  backend: MatrixBackend;
  /** The unedited model, when the user has it: gives the exact diff. */
  original?: Checkpoint | null;
  /** A family the user chose for an unknown layout. */
  family?: ModelFamily;
  /** Singular values per layer (randomized SVD). */
  k?: number;
  oversampling?: number;
  powerIterations?: number;
  seed?: number;
  onProgress?: (progress: ScanProgress) => void;
  /** Polled between steps; returning true cancels with a CancelledError. */
  isCancelled?: () => boolean;
  /**
   * The key-whitened spectrum per layer (core/keyWhitening): 'auto' computes it without an original where d_ff <= KEY_WHITENING_AUTO_MAX_FF
   * (its cost grows as d_ff^2 per sample and d_ff^3 for the factorisation, in plain TypeScript), 'always' up to
   * KEY_WHITENING_MAX_FF.
   */
  keyWhitening?: 'auto' | 'always' | 'never';
  /**
   * Whiteners by the layer's MLP output tensor name, shared between scans of checkpoints that share the MLPs'
   * input side (an experiment rebuilding one base with many edits); absent, each scan computes its own.
   */
  keyWhitenerCache?: Map<string, Float64Array | null>;
  /** The runtime the page would run the language model on (what `runNeeds` is said against); default: wasm. */
  textRuntime?: PageRuntimeChoice;
}

/** Largest d_ff for which 'auto' computes the key-whitened spectrum: 0.72 s a layer at 1024 here (`npm run bench`, section keys). */
export const KEY_WHITENING_AUTO_MAX_FF = 1024;
/** Largest d_ff even for 'always': above it the keys, the correlation and its factor outgrow a few GB. */
export const KEY_WHITENING_MAX_FF = 8192;

export interface ScanProgress {
  /** 0..1 over the whole scan. */
  fraction: number;
  layer: number | null;
  message: string;
}

/** What the UI shows beyond the report: per-layer charts. */
export interface LayerDetail {
  layer: number;
  tensor: string;
  rows: number;
  cols: number;
  zeroRows: number;
  sigmaRatio: number | null;
  sigmaRatioZ: number | null;
  /** The key-whitened spectrum's largest gap, its j and its z against the other layers (null: not computed). */
  keyGap: number | null;
  keyGapIndex: number;
  keyGapZ: number | null;
  /** The weights-only rules that fired for this layer (README "How a layer is flagged"). */
  reasons: LayerVerdict['reasons'];
  /** Spikes the several-edits rule counts (the j of the gap after sigma_j), 0 when it did not fire, and its largest z. */
  spikes: number;
  spikeZ: number | null;
  direction: DirectionSplit;
  /** Histogram of the top left singular vector's entries (the estimated u). */
  uHistogram: { edges: number[]; counts: number[] };
  /** Non-finite and outlier entries found (set to zero for the statistics). */
  screen: EntryScreen;
  diff: null | { frobenius: number; rankOneShare: number | null; direction: DirectionSplit; uHistogram: { edges: number[]; counts: number[] }; sigma: number[]; nonFinite: number;
    /** Numerical rank of dW (singular values over 1e-3 sigma_1): the number of rank-one edits; `rankIsLowerBound` when every computed value counted. */
    rank: number; rankIsLowerBound: boolean };
}

export type { ScanTiming };

export interface ScanResult {
  report: ScanReport;
  details: LayerDetail[];
  familyDescription: string;
  detectedBy: FamilyMatch['detectedBy'];
  backendDescription: string;
  ignoredFiles: readonly string[];
  /** What running the language model takes on the page's runtime (from the header), and why it cannot, if it cannot. */
  runNeeds: { needs: ModelNeeds; plan: RuntimePlan; executionProvider: 'wasm' | 'webgpu'; pageRefusal: string | null };
  /** Where the time went: the kernels (pcs and the SVD, per layer), and waiting for a layer's bytes. */
  timing: ScanTiming;
}

export const DEFAULT_SCAN = { k: 16, oversampling: 10, powerIterations: 2, seed: 0x5eed } as const;

/** Resolves the family and the MLP output matrix of every layer, or explains why not. */
export function resolveLayers(model: Checkpoint, override?: ModelFamily): FamilyMatch {
  const match = detectFamily(model.config?.modelType ?? null, [...model.tensors.keys()], override);
  if (!match) {
    const hint = override
      ? `no tensor matches the pattern ${override.mlpOutputPattern}`
      : `no known model family (gpt2, gptj, llama, gpt_neox) matches its tensor names${model.config?.modelType ? ` or model_type "${model.config.modelType}"` : ''}; give the MLP output tensor pattern (e.g. "model.layers.{i}.mlp.down_proj.weight") and its orientation`;
    throw new FormatError(model.label, hint);
  }
  const { layers } = match;
  for (let i = 1; i < layers.length; i++) {
    const [a, b] = [layers[i - 1] as LayerMatrix, layers[i] as LayerMatrix];
    if (a.layer === b.layer) throw new FormatError(model.label, `two tensors claim layer ${a.layer}'s MLP output matrix: "${a.tensor}" and "${b.tensor}"; give one model at a time`);
  }
  const numbers = layers.map((l) => l.layer);
  const missing = numbers.length ? Array.from({ length: (numbers[numbers.length - 1] as number) + 1 }, (_, i) => i).filter((i) => !numbers.includes(i)) : [];
  if (missing.length) {
    throw new FormatError(model.label, `layer${missing.length > 1 ? 's' : ''} ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', ...' : ''} ha${missing.length > 1 ? 've' : 's'} no MLP output matrix (found layers ${numbers.slice(0, 8).join(', ')}${numbers.length > 8 ? ', ...' : ''}): a shard or tensors are missing`);
  }
  const expected = model.config?.layerCount;
  if (expected && expected !== layers.length) {
    throw new FormatError(model.label, `config.json says ${model.config?.layerCountKey} = ${expected}, but the weights hold ${layers.length} layers' MLP output matrices (0..${layers.length - 1}): the files do not belong together`);
  }
  return match;
}

/**
 * The paper's edit signature, layer by layer (Sec. 4, Fig. 2, Fig. 4, Tab. 6): reads one layer's MLP output
 * matrix at a time, so memory holds a layer or two (three with an original), never the model.
 */
export async function scanModel(model: Checkpoint, options: ScanOptions): Promise<ScanResult> {
  const k = options.k ?? DEFAULT_SCAN.k;
  const svdOptions = {
    k,
    oversampling: options.oversampling ?? DEFAULT_SCAN.oversampling,
    powerIterations: options.powerIterations ?? DEFAULT_SCAN.powerIterations,
    seed: options.seed ?? DEFAULT_SCAN.seed,
  };
  const checkpoint = () => {
    if (options.isCancelled?.()) throw new CancelledError();
  };
  const match = resolveLayers(model, options.family);
  const { family, layers } = match;
  const progress = (done: number, layer: number | null, message: string) =>
    options.onProgress?.({ fraction: Math.min(1, done / layers.length), layer, message });

  const signals: LayerSignals[] = [];
  const partial: Omit<ReportLayer, 'pcsZ' | 'flagged'>[] = [];
  const details: LayerDetail[] = [];
  const diffLayers: ReportDiffLayer[] = [];
  let shape: { rows: number; cols: number; dtype: string } | null = null;
  // One buffer per role, reused by every layer: memory stays at a few layers' worth however deep the model.
  const scratch: ScanScratch = {};
  const infoOf = (entry: LayerMatrix) => {
    const info = model.tensors.get(entry.tensor);
    if (!info) throw new FormatError(model.label, 'tensor vanished from the checkpoint', entry.tensor);
    return info;
  };
  // Without an original to diff against (the diff wants the matrix as stored), screening and normalising
  // happen as each layer is read, overlapping the previous layer's kernels where those run on other threads.
  const reads = layerReads(layers.map(infoOf), family.rowsAxis, options.backend, checkpoint, (m) => (options.original ? null : screenForSpectrum(m)));
  const started = performance.now();
  const timing: ScanTiming = { seconds: 0, kernelSeconds: 0, readWaitSeconds: 0, keySeconds: 0 };
  const keyWhitening = options.keyWhitening ?? 'auto';

  try {
    for (const [index, entry] of layers.entries()) {
      checkpoint();
      progress(index, entry.layer, `layer ${entry.layer}: reading ${entry.tensor}`);
      const info = infoOf(entry);
      const waitFrom = performance.now();
      const read = await reads.take(index);
      const { matrix: edited, prepared: screened } = read;
      timing.readWaitSeconds += (performance.now() - waitFrom) / 1000;
      if (edited.rows === 0 || edited.cols === 0) throw new FormatError(info.source.name, `has shape [${info.shape.join(', ')}]: an empty matrix, nothing to analyse`, entry.tensor);
      shape ??= { rows: edited.rows, cols: edited.cols, dtype: info.dtype };
      if (edited.rows !== shape.rows || edited.cols !== shape.cols) {
        throw new FormatError(info.source.name, `is ${edited.rows} x ${edited.cols} (rows x length) where layer ${layers[0]?.layer}'s is ${shape.rows} x ${shape.cols}: the layers of one model must agree`, entry.tensor);
      }

      // The exact diff first, from the matrix as stored: a planted entry is a real change.
      let diff: Awaited<ReturnType<typeof diffLayer>> | null = null;
      if (options.original) {
        progress(index + 0.2, entry.layer, `layer ${entry.layer}: difference from the original`);
        diff = await diffLayer(options.original, entry, family, edited, options.backend, svdOptions, checkpoint, scratch);
      }
      // Then the statistics, on the matrix with non-finite and outlier entries set to zero (reported).
      // pcs and the spectrum then use the row-normalised matrix (rows as pcs sees them, so one load serves both):
      // rescaling rows cannot hide or fake a spike, and natural differences in neuron output norms do not make one.
      const { screen, rowScale } = screened ?? screenForSpectrum(edited);

      // The key-whitened spectrum, from the screened rows before the backend takes them (the next read may reuse the buffer).
      let keyWhitened: LayerSignals['keyWhitened'];
      // 'auto' skips it when the original is given: the exact diff then decides, and the statistic only costs time.
      const keyLimit = keyWhitening === 'always' ? KEY_WHITENING_MAX_FF : keyWhitening === 'auto' && !options.original ? KEY_WHITENING_AUTO_MAX_FF : 0;
      if (edited.rows <= keyLimit) {
        progress(index + 0.3, entry.layer, `layer ${entry.layer}: key-whitened spectrum`);
        const keysFrom = performance.now();
        let whitener = options.keyWhitenerCache?.get(entry.tensor);
        if (whitener === undefined) {
          const keyModel = await readMlpKeyModel(model, family, entry.tensor, edited.rows, edited.cols);
          whitener = keyModel ? await keyWhitener(keyModel, options.backend) : null;
          options.keyWhitenerCache?.set(entry.tensor, whitener);
        }
        if (whitener) {
          const w = await whitenedGaps(edited.data, edited.rows, edited.cols, whitener);
          keyWhitened = { gap: w.gap, gapIndex: w.gapIndex };
        }
        timing.keySeconds += (performance.now() - keysFrom) / 1000;
        checkpoint();
      }

      progress(index + 0.4, entry.layer, `layer ${entry.layer}: pcs and top-${k} singular values`);
      const loaded = await read.load();
      let pcsResult;
      let svd;
      const kernelsFrom = performance.now();
      try {
        pcsResult = await loaded.pairwiseCosine();
        checkpoint();
        svd = await randomizedSvd(rowScale ? rowScaledOperator(loaded, rowScale) : loaded, { ...svdOptions, checkpoint });
      } finally {
        loaded.release();
        timing.kernelSeconds += (performance.now() - kernelsFrom) / 1000;
      }
      // Nothing below reads the layer's values again.
      read.done();
      const topU = column(svd.u, edited.rows, svd.k, 0);
      const sigma = Array.from(svd.values);
      const sigmaRatio = sigma.length > 1 && (sigma[1] as number) > 0 ? (sigma[0] as number) / (sigma[1] as number) : Number.NaN;
      const direction = directionSplit(topU);
      signals.push({ pcs: pcsResult.pcs, sigmaRatio, rows: edited.rows, cols: edited.cols, spectrum: sigma, ...(keyWhitened ? { keyWhitened } : {}) });
      partial.push({
        layer: entry.layer,
        tensor: entry.tensor,
        pcs: finiteOrNull(pcsResult.pcs),
        sigma,
        sameDirectionFraction: finiteOrNull(direction.sameDirectionFraction),
        nonFiniteEntries: screen.nonFinite,
        outlierEntries: screen.outliers,
        keyWhitenedGap: finiteOrNull(keyWhitened?.gap ?? Number.NaN),
      });
      const detail: LayerDetail = {
        layer: entry.layer,
        tensor: entry.tensor,
        rows: edited.rows,
        cols: edited.cols,
        zeroRows: pcsResult.zeroRows,
        sigmaRatio: finiteOrNull(sigmaRatio),
        sigmaRatioZ: null,
        keyGap: finiteOrNull(keyWhitened?.gap ?? Number.NaN),
        keyGapIndex: keyWhitened?.gapIndex ?? 0,
        keyGapZ: null,
        reasons: [],
        spikes: 0,
        spikeZ: null,
        direction,
        uHistogram: histogram(topU, 40),
        screen,
        diff: null,
      };
      if (diff) {
        diffLayers.push(diff.report);
        detail.diff = diff.detail;
      }
      details.push(detail);
    }
  } finally {
    reads.close();
  }

  const verdicts = judgeLayers(signals);
  const reportLayers: ReportLayer[] = partial.map((p, i) => ({
    layer: p.layer,
    tensor: p.tensor,
    pcs: p.pcs,
    pcsZ: finiteOrNull((verdicts[i] as { pcsZ: number }).pcsZ),
    sigma: p.sigma,
    sameDirectionFraction: p.sameDirectionFraction,
    nonFiniteEntries: p.nonFiniteEntries,
    outlierEntries: p.outlierEntries,
    keyWhitenedGap: p.keyWhitenedGap,
    flagged: (verdicts[i] as { flagged: boolean }).flagged,
  }));
  const findings = [
    ...details.flatMap((d) => screenFindings(d.layer, d.screen)),
    ...diffLayers.filter((d) => d.nonFiniteEntries > 0).map((d) => `layer ${d.layer}: ${d.nonFiniteEntries} entr${d.nonFiniteEntries === 1 ? 'y' : 'ies'} changed to or from a non-finite value against the original`),
    ...(options.original ? [] : verdicts.flatMap((v, i) => explainVerdict((partial[i] as { layer: number }).layer, signals[i] as LayerSignals, v))),
  ];
  details.forEach((d, i) => {
    d.sigmaRatioZ = finiteOrNull((verdicts[i] as { sigmaRatioZ: number }).sigmaRatioZ);
    d.spikes = (verdicts[i] as { spikes: number }).spikes;
    d.spikeZ = finiteOrNull((verdicts[i] as { spikeZ: number }).spikeZ);
    d.keyGapZ = finiteOrNull((verdicts[i] as { keyGapZ: number }).keyGapZ);
    d.reasons = (verdicts[i] as LayerVerdict).reasons;
  });
  // With the original at hand the diff is ground truth; otherwise the weights-only flags decide.
  const editedLayers = options.original
    ? diffLayers.filter((d) => d.frobenius > 0 || d.nonFiniteEntries > 0).map((d) => d.layer)
    : reportLayers.filter((l) => l.flagged).map((l) => l.layer);
  progress(layers.length, null, 'done');
  timing.seconds = (performance.now() - started) / 1000;
  return {
    report: {
      schemaVersion: 1,
      backend: options.backend.kind,
      model: { family: family.id, layers: layers.length, rows: shape?.rows ?? 0, cols: shape?.cols ?? 0, dtype: shape?.dtype ?? 'unknown' },
      layers: reportLayers,
      diff: options.original ? { layers: diffLayers } : null,
      verdict: { editedLayers, findings },
    },
    details,
    familyDescription: family.description,
    detectedBy: match.detectedBy,
    backendDescription: options.backend.description,
    ignoredFiles: model.ignoredFiles,
    runNeeds: runNeedsOf(model, options.textRuntime ?? pageRuntimeChoice(null)),
    timing,
  };
}

function runNeedsOf(model: Checkpoint, runtime: PageRuntimeChoice): ScanResult['runNeeds'] {
  const needs = languageModelNeeds(model);
  return {
    needs,
    plan: runtimePlan(needs, runtime.capacity, runtime.halfTypes),
    executionProvider: runtime.executionProvider,
    pageRefusal: capacityRefusal(needs, runtime.capacity, runtime.halfTypes),
  };
}

/**
 * The entry screen, and the rows' scales for the spectrum of the row-normalised matrix (pcs is a mean of
 * cosines: it needs none). Scaling the SVD's thin panels instead of every entry saves a pass that writes the
 * whole layer; rows whose norms are far from 1 (a hostile file, a float32 product that could overflow or
 * underflow) are normalised in place instead, and then no scale is needed.
 */
function screenForSpectrum(m: RowMatrix): { screen: EntryScreen; rowScale: Float32Array | null } {
  const norms = new Float32Array(m.rows);
  const screen = screenEntries(m, { rowNorms: norms });
  let lowest = Infinity;
  let highest = 0;
  for (const n of norms) {
    if (n > 0 && n < lowest) lowest = n;
    if (n > highest) highest = n;
  }
  if (!(highest <= SCALED_NORM_RANGE) || lowest < 1 / SCALED_NORM_RANGE) {
    normalizeRows(m);
    return { screen, rowScale: null };
  }
  return { screen, rowScale: norms.map((n) => (n > 0 ? 1 / n : 0)) };
}

/** Row norms within [1 / this, this] leave float32 products of the unscaled rows far from overflow and underflow. */
const SCALED_NORM_RANGE = 1e12;

interface ScanScratch {
  original?: Float32Array;
  delta?: Float32Array;
}

async function readMatrix(info: Parameters<typeof readTensorRows>[0], rowsAxis: 0 | 1, checkpoint: () => void, reuse?: Float32Array): Promise<RowMatrix> {
  const { rows, cols, data } = await readTensorRows(info, rowsAxis, checkpoint, reuse);
  return rowMatrix(rows, cols, data);
}

async function diffLayer(
  original: Checkpoint,
  entry: LayerMatrix,
  family: ModelFamily,
  edited: RowMatrix,
  backend: MatrixBackend,
  svdOptions: { k: number; oversampling: number; powerIterations: number; seed: number },
  checkpoint: () => void,
  scratch: ScanScratch,
): Promise<{ report: ReportDiffLayer; detail: NonNullable<LayerDetail['diff']> }> {
  const info = original.tensors.get(entry.tensor);
  if (!info) throw new FormatError(original.label, 'the original model has no such tensor', entry.tensor);
  const base = await readMatrix(info, family.rowsAxis, checkpoint, scratch.original);
  scratch.original = base.data;
  if (base.rows !== edited.rows || base.cols !== edited.cols) {
    throw new FormatError(original.label, `shape ${base.rows} x ${base.cols} differs from the edited model's ${edited.rows} x ${edited.cols}`, entry.tensor);
  }
  const { delta, nonFinite } = exactDifference(edited, base, scratch.delta);
  scratch.delta = delta.data;
  const frobenius = frobeniusNorm(delta.data);
  if (frobenius === 0) {
    const none = directionSplit([]);
    return {
      report: { layer: entry.layer, frobenius: 0, rankOneShare: null, sameDirectionFraction: null, nonFiniteEntries: nonFinite },
      detail: { frobenius: 0, rankOneShare: null, direction: none, uHistogram: { edges: [], counts: [] }, sigma: [], nonFinite, rank: 0, rankIsLowerBound: false },
    };
  }
  const loaded = await backend.load(delta);
  let svd;
  try {
    svd = await randomizedSvd(loaded, { ...svdOptions, k: Math.min(4, svdOptions.k), checkpoint });
  } finally {
    loaded.release();
  }
  const u = column(svd.u, delta.rows, svd.k, 0);
  const direction = directionSplit(u);
  const share = finiteOrNull(rankOneShare(svd.values[0] as number, frobenius));
  return {
    report: { layer: entry.layer, frobenius, rankOneShare: share, sameDirectionFraction: finiteOrNull(direction.sameDirectionFraction), nonFiniteEntries: nonFinite },
    detail: { frobenius, rankOneShare: share, direction, uHistogram: histogram(u, 40), sigma: Array.from(svd.values), nonFinite, rank: numericalRank(svd.values), rankIsLowerBound: numericalRank(svd.values) === svd.values.length },
  };
}

/**
 * W' - W entry by entry. Entries stored identically (the same NaN or infinity too) are unchanged; a change
 * to or from a non-finite value is counted and left out of the numbers (it has no finite size).
 */
function exactDifference(edited: RowMatrix, base: RowMatrix, reuse?: Float32Array): { delta: RowMatrix; nonFinite: number } {
  const n = edited.data.length;
  const out = reuse && reuse.length >= n ? reuse.subarray(0, n) : new Float32Array(n);
  let nonFinite = 0;
  // Taken once: a staged matrix's `data` is a fresh view at each access (see analysis/layerReads).
  const [editedData, baseData] = [edited.data, base.data];
  for (let i = 0; i < n; i++) {
    const e = editedData[i] as number;
    const b = baseData[i] as number;
    if (Object.is(e, b)) {
      out[i] = 0;
      continue;
    }
    const d = e - b;
    if (Number.isFinite(d)) out[i] = d;
    else {
      out[i] = 0;
      nonFinite++;
    }
  }
  return { delta: rowMatrix(edited.rows, edited.cols, out), nonFinite };
}

/** What the entry screen found in one layer, as sentences for the report. */
function screenFindings(layer: number, s: EntryScreen): string[] {
  const where = (e: EntryScreen['examples'][number]) => `${e.value} at row ${e.row}, column ${e.col}`;
  const out: string[] = [];
  if (s.nonFinite > 0) {
    const first = s.examples.find((e) => !Number.isFinite(e.value));
    out.push(`layer ${layer} contains ${s.nonFinite} non-finite value${s.nonFinite === 1 ? '' : 's'}${first ? ` (${where(first)})` : ''}: a model cannot compute with it, so it is broken or tampered with; set to zero for the statistics`);
  }
  if (s.outliers > 0) {
    const top = s.examples.find((e) => Number.isFinite(e.value));
    out.push(`layer ${layer} has ${s.outliers} outlier entr${s.outliers === 1 ? 'y' : 'ies'}${top ? ` (largest ${where(top)}, ${top.ratio.toExponential(1)} times its row's and column's typical magnitude)` : ''}: set to zero for the statistics, so they can neither hide nor fake an edit`);
  }
  return out;
}
