import { directionSplit, type DirectionSplit, histogram, rankOneShare } from '../core/editSignature';
import { judgeLayers } from '../core/editVerdict';
import type { MatrixBackend } from '../core/matrixBackend';
import { frobeniusNorm, type RowMatrix, rowMatrix, subtract } from '../core/matrix';
import { column, randomizedSvd } from '../core/randomizedSvd';
import type { Checkpoint } from '../formats/checkpoint';
import { CancelledError, FormatError } from '../formats/formatError';
import { readTensorRows } from '../formats/tensorReader';
import type { LayerMatrix, ModelFamily } from '../families/modelFamily';
import { detectFamily, type FamilyMatch } from '../families/registry';
import { finiteOrNull, type ReportDiffLayer, type ReportLayer, type ScanReport } from './scanReport';

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
}

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
  direction: DirectionSplit;
  /** Histogram of the top left singular vector's entries (the estimated u). */
  uHistogram: { edges: number[]; counts: number[] };
  diff: null | { frobenius: number; rankOneShare: number | null; direction: DirectionSplit; uHistogram: { edges: number[]; counts: number[] }; sigma: number[] };
}

export interface ScanResult {
  report: ScanReport;
  details: LayerDetail[];
  familyDescription: string;
  detectedBy: FamilyMatch['detectedBy'];
  backendDescription: string;
  ignoredFiles: readonly string[];
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

  const signals: { pcs: number; sigmaRatio: number; rows: number; cols: number }[] = [];
  const partial: Omit<ReportLayer, 'pcsZ' | 'flagged'>[] = [];
  const details: LayerDetail[] = [];
  const diffLayers: ReportDiffLayer[] = [];
  let shape: { rows: number; cols: number; dtype: string } | null = null;
  // One buffer per role, reused by every layer: memory stays at a few layers' worth however deep the model.
  const scratch: ScanScratch = {};

  for (const [index, entry] of layers.entries()) {
    checkpoint();
    progress(index, entry.layer, `layer ${entry.layer}: reading ${entry.tensor}`);
    const info = model.tensors.get(entry.tensor);
    if (!info) throw new FormatError(model.label, 'tensor vanished from the checkpoint', entry.tensor);
    const edited = await readMatrix(info, family.rowsAxis, checkpoint, scratch.edited);
    scratch.edited = edited.data;
    shape ??= { rows: edited.rows, cols: edited.cols, dtype: info.dtype };

    progress(index + 0.3, entry.layer, `layer ${entry.layer}: pcs and top-${k} singular values`);
    const loaded = await options.backend.load(edited);
    let pcsResult;
    let svd;
    try {
      pcsResult = await loaded.pairwiseCosine();
      checkpoint();
      svd = await randomizedSvd(loaded, { ...svdOptions, checkpoint });
    } finally {
      loaded.release();
    }
    const topU = column(svd.u, edited.rows, svd.k, 0);
    const sigma = Array.from(svd.values);
    const sigmaRatio = sigma.length > 1 && (sigma[1] as number) > 0 ? (sigma[0] as number) / (sigma[1] as number) : Number.NaN;
    const direction = directionSplit(topU);
    signals.push({ pcs: pcsResult.pcs, sigmaRatio, rows: edited.rows, cols: edited.cols });
    partial.push({
      layer: entry.layer,
      tensor: entry.tensor,
      pcs: finiteOrNull(pcsResult.pcs),
      sigma,
      sameDirectionFraction: finiteOrNull(direction.sameDirectionFraction),
    });
    const detail: LayerDetail = {
      layer: entry.layer,
      tensor: entry.tensor,
      rows: edited.rows,
      cols: edited.cols,
      zeroRows: pcsResult.zeroRows,
      sigmaRatio: finiteOrNull(sigmaRatio),
      sigmaRatioZ: null,
      direction,
      uHistogram: histogram(topU, 40),
      diff: null,
    };

    if (options.original) {
      progress(index + 0.6, entry.layer, `layer ${entry.layer}: difference from the original`);
      const diff = await diffLayer(options.original, entry, family, edited, options.backend, svdOptions, checkpoint, scratch);
      diffLayers.push(diff.report);
      detail.diff = diff.detail;
    }
    details.push(detail);
  }

  const verdicts = judgeLayers(signals);
  const reportLayers: ReportLayer[] = partial.map((p, i) => ({
    layer: p.layer,
    tensor: p.tensor,
    pcs: p.pcs,
    pcsZ: finiteOrNull((verdicts[i] as { pcsZ: number }).pcsZ),
    sigma: p.sigma,
    sameDirectionFraction: p.sameDirectionFraction,
    flagged: (verdicts[i] as { flagged: boolean }).flagged,
  }));
  details.forEach((d, i) => {
    d.sigmaRatioZ = finiteOrNull((verdicts[i] as { sigmaRatioZ: number }).sigmaRatioZ);
  });
  // With the original at hand the diff is ground truth; otherwise the weights-only flags decide.
  const editedLayers = options.original
    ? diffLayers.filter((d) => d.frobenius > 0).map((d) => d.layer)
    : reportLayers.filter((l) => l.flagged).map((l) => l.layer);
  progress(layers.length, null, 'done');
  return {
    report: {
      schemaVersion: 1,
      backend: options.backend.kind,
      model: { family: family.id, layers: layers.length, rows: shape?.rows ?? 0, cols: shape?.cols ?? 0, dtype: shape?.dtype ?? 'unknown' },
      layers: reportLayers,
      diff: options.original ? { layers: diffLayers } : null,
      verdict: { editedLayers },
    },
    details,
    familyDescription: family.description,
    detectedBy: match.detectedBy,
    backendDescription: options.backend.description,
    ignoredFiles: model.ignoredFiles,
  };
}

interface ScanScratch {
  edited?: Float32Array;
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
  const delta = subtract(edited, base, scratch.delta);
  scratch.delta = delta.data;
  const frobenius = frobeniusNorm(delta.data);
  if (frobenius === 0) {
    const none = directionSplit([]);
    return {
      report: { layer: entry.layer, frobenius: 0, rankOneShare: null, sameDirectionFraction: null },
      detail: { frobenius: 0, rankOneShare: null, direction: none, uHistogram: { edges: [], counts: [] }, sigma: [] },
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
    report: { layer: entry.layer, frobenius, rankOneShare: share, sameDirectionFraction: finiteOrNull(direction.sameDirectionFraction) },
    detail: { frobenius, rankOneShare: share, direction, uHistogram: histogram(u, 40), sigma: Array.from(svd.values) },
  };
}
