import { directionSplit } from '../core/editSignature';
import type { MatrixBackend } from '../core/matrixBackend';
import type { EditBundle, EditRecordMeta } from '../edit/editBundle';
import { type ByteSource, MemorySource, resolverFromSources } from '../formats/byteSource';
import { type Checkpoint, openCheckpoint } from '../formats/checkpoint';
import { patchedChunks, patchTensor, toStoredLayout } from '../formats/tensorPatch';
import { readLayerRows } from './layerMatrix';
import { scanModel } from './scanModel';
import type { LayerVerdict } from '../core/editVerdict';
import { judgeWhitened, keyWhiteners, whitenedTopSpectrum } from './whitenedSpectrum';

/** One rebuilt checkpoint (the base with one bundle edit applied) and what the scan said from its weights alone. */
export interface DetectionTrial {
  edit: number;
  relation: string;
  mom2Adjustment: boolean;
  main: boolean;
  /** Share of u's entries with the majority sign. */
  uSameSign: number;
  /** Layers the verdict flags (no original given). */
  flagged: number[];
  /** The edited layer is among them. */
  hit: boolean;
  /** Other layers flagged. */
  falseFlags: number;
  /** The verdict's signals at the edited layer. */
  pcsZ: number;
  sigmaRatio: number;
  sigmaRatioZ: number;
  /** The key-whitened spectrum's largest gap at the edited layer and its z (NaN: not computed). */
  keyGap: number;
  keyGapZ: number;
  /** Which rules fired at the edited layer. */
  reasons: string[];
  /** With the keys' second moments given: the spectral rules on (C + floor)^-1/2 W' per layer (null without). */
  whitened: { flagged: boolean; sigmaRatio: number; sigmaRatioZ: number } | null;
}

/** Per layer, the uncentred second moment C [d_ff, d_ff] of the MLP output projection's inputs over text, and the whitener's floor. */
export interface KeyMoments {
  moments: readonly Float64Array[];
  /** (C + relativeFloor * max eigenvalue * I)^-1/2. */
  relativeFloor: number;
}

/** The whitened spectral verdict of the unedited base (each layer whitened by its own C): what an edit must stand out from. */
export async function whitenedBaseVerdict(base: Checkpoint, keys: KeyMoments): Promise<{ spectra: number[][]; verdicts: LayerVerdict[] }> {
  const whiteners = keyWhiteners(keys.moments, Math.round(Math.sqrt((keys.moments[0] as Float64Array).length)), keys.relativeFloor);
  const spectra: number[][] = [];
  let shape = { rows: 0, cols: 0 };
  for (let l = 0; l < whiteners.length; l++) {
    const w = await readLayerRows(base, l);
    shape = { rows: w.rows, cols: w.cols };
    spectra.push(await whitenedTopSpectrum(w.data, w.rows, w.cols, whiteners[l] as Float64Array));
  }
  return { spectra, verdicts: judgeWhitened(spectra, shape.rows, shape.cols) };
}

/**
 * Detection recall from weights alone (demo-model issue item 4): each edit of the bundle applied to the base
 * model's matrix of its layer, written as a checkpoint (the base file with that tensor replaced, every other
 * byte identical), scanned without the original. `sources`: the base model's files (weights and config.json).
 */
export async function detectionTrials(sources: readonly ByteSource[], bundle: EditBundle, edits: readonly EditRecordMeta[], backend: MatrixBackend, onTrial?: (done: number, total: number) => void, keys?: KeyMoments): Promise<DetectionTrial[]> {
  const base = await openCheckpoint(sources, resolverFromSources(sources), 'base');
  const trials: DetectionTrial[] = [];
  // Every rebuilt checkpoint shares the base's MLP input side: its key whiteners are computed once.
  const keyWhitenerCache = new Map<string, Float64Array | null>();
  const matrices = new Map<number, Awaited<ReturnType<typeof readLayerRows>>>();
  // The whitened spectra of the unedited layers, once: each trial changes one layer only.
  const whiteners = keys ? keyWhiteners(keys.moments, Math.round(Math.sqrt((keys.moments[0] as Float64Array).length)), keys.relativeFloor) : null;
  const baseWhitened = keys ? (await whitenedBaseVerdict(base, keys)).spectra : [];
  for (const [i, e] of edits.entries()) {
    if (!matrices.has(e.layer)) matrices.set(e.layer, await readLayerRows(base, e.layer));
    const w = matrices.get(e.layer) as Awaited<ReturnType<typeof readLayerRows>>;
    const { u, lambda } = await bundle.factors(e.id, { rows: w.rows, cols: w.cols });
    const edited = Float32Array.from(w.data);
    for (let r = 0; r < w.rows; r++) for (let c = 0; c < w.cols; c++) edited[r * w.cols + c] = (edited[r * w.cols + c] as number) + (u[r] as number) * (lambda[c] as number);
    const checkpoint = await rebuilt(sources, base, w.located.info, toStoredLayout(w.rows, w.cols, edited, w.located.family.rowsAxis));
    const { report, details } = await scanModel(checkpoint, { backend, keyWhitenerCache });
    let whitened: DetectionTrial['whitened'] = null;
    if (whiteners) {
      const spectra = baseWhitened.slice();
      spectra[e.layer] = await whitenedTopSpectrum(edited, w.rows, w.cols, whiteners[e.layer] as Float64Array);
      const v = judgeWhitened(spectra, w.rows, w.cols)[e.layer] as LayerVerdict;
      const s = spectra[e.layer] as number[];
      whitened = { flagged: v.flagged, sigmaRatio: (s[0] as number) / (s[1] as number), sigmaRatioZ: v.sigmaRatioZ };
    }
    const layer = report.layers.find((l) => l.layer === e.layer);
    const detail = details.find((l) => l.layer === e.layer);
    const flagged = report.verdict.editedLayers;
    trials.push({
      edit: e.id,
      relation: e.relation,
      mom2Adjustment: e.mom2Adjustment,
      main: e.main,
      uSameSign: directionSplit(u).sameDirectionFraction,
      flagged,
      hit: flagged.includes(e.layer),
      falseFlags: flagged.filter((l) => l !== e.layer).length,
      pcsZ: layer?.pcsZ ?? NaN,
      sigmaRatio: detail?.sigmaRatio ?? NaN,
      sigmaRatioZ: detail?.sigmaRatioZ ?? NaN,
      keyGap: detail?.keyGap ?? NaN,
      keyGapZ: detail?.keyGapZ ?? NaN,
      reasons: detail?.reasons ?? [],
      whitened,
    });
    onTrial?.(i + 1, edits.length);
  }
  return trials;
}

/** The base checkpoint with one tensor replaced, as in-memory files. */
async function rebuilt(sources: readonly ByteSource[], base: Checkpoint, info: Parameters<typeof patchTensor>[0], stored: Float32Array): Promise<Checkpoint> {
  const chunks: Uint8Array[] = [];
  for await (const c of patchedChunks(patchTensor(info, stored))) chunks.push(c);
  const bytes = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  const files = sources.map((s) => (s === info.source ? new MemorySource(s.name, bytes) : s));
  return openCheckpoint(files, resolverFromSources(files), `${base.label} (edited)`);
}
