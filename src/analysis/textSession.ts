import { dropTopComponents } from '../core/bottomRank';
import { cpuBackend, type MatrixBackend } from '../core/matrixBackend';
import { rowMatrix } from '../core/matrix';
import type { SingularTriplets } from '../core/randomizedSvd';
import { openEditBundle } from '../edit/editBundle';
import type { Checkpoint } from '../formats/checkpoint';
import { CancelledError, FormatError } from '../formats/formatError';
import { patchedBlob } from '../formats/tensorPatch';
import { chooseGpu, type ComputePreference } from '../gpu/computeChoice';
import { residentMatrixBackend } from '../wasm/residentMatrixBackend';
import { gpuBackend } from '../gpu/gpuMatrix';
import { planRepair } from './repair';
import { accurateTopTriplets, DEFAULT_REVERSAL, type ReversalResult, runReversal, selectEdits } from './reversal';
import { type UniquePredictions, uniquePredictions } from './uniquePredictions';
import { readLayerRows } from './layerMatrix';
import type { ExecutionProvider, OrtModule } from '../lm/languageModel';
import { type PageRuntimeChoice, pageRuntimeChoice } from '../lm/pageRuntime';
import { type FileInput, type ModelInput, openFileInput, openModelInput } from './modelInput';
import { readTextLines } from './textLines';
import { type Completion, completePrompt, loadTokenizerBeside, type OpenProgress, openTextModel, type TextModel } from './textModel';
import type { TextTokenizer } from '../lm/tokenizer';
import { type ByteSource, MemorySource } from '../formats/byteSource';
import { parseProbe, serializeProbe } from './relationProbeFile';
import type { ProbeTableOptions, ProbeTableRow } from './relationProbeTable';
import { probeTableOfBundle, trainProbeFromBundle } from './relationProbeTraining';
import { type TraceResult, traceLayer } from './traceModel';

/** Reads a source of at most 64 MB in one request: the probe reads every edit's two vectors, 2 requests each otherwise. */
async function bufferedIfSmall(source: ByteSource): Promise<ByteSource> {
  return source.size <= 64_000_000 ? new MemorySource(source.name, await source.read(0, source.size)) : source;
}

/**
 * Which matrix a run uses: the loaded checkpoint's own, the original checkpoint's of the same layer, or the
 * bottom-rank approximation W~(r, k) of the checkpoint's own (paper Sec. 7).
 */
export type MatrixVariant = 'model' | 'original' | { approximatedK: number };

/** Where the reversal experiment's inputs come from. */
export interface ReversalRequest {
  bundle: FileInput;
  perRelation: number;
}

export interface TextModelInfo {
  family: string;
  layer: number;
  hasOriginal: boolean;
  executionProvider: ExecutionProvider;
  /** onnxruntime-web's wasm threads (2 only in a cross-origin isolated page). */
  threads: number;
}

/**
 * The worker's language-model state: one ONNX session of the loaded checkpoint, and the original's matrix
 * of the chosen layer ready to swap in, so original and edited answers come from the same session.
 */
export class TextSession {
  private model: TextModel | null = null;
  private checkpoint: Checkpoint | null = null;
  private originalCheckpoint: Checkpoint | null = null;
  private originalMatrix: Float32Array | null = null;
  private tokenizer: TextTokenizer | null = null;
  /** Top singular triplets of the model's matrix, for approximations (computed once per opened model). */
  private triplets: SingularTriplets | null = null;
  private current: string = 'model';
  private cancelled = false;
  /** Counts opens: an older one still running sees it move on and stops. */
  private openGeneration = 0;
  private backend: Promise<MatrixBackend> | null = null;

  private preference: ComputePreference = 'auto';

  constructor(private readonly ort: OrtModule) {}

  /** Where to compute (the page's ?backend=): takes effect at the next open. */
  setPreference(preference: ComputePreference): void {
    if (preference !== this.preference) this.backend = null;
    this.preference = preference;
  }

  /** WebGPU for the language model only on a hardware adapter (see chooseGpu); wasm otherwise. */
  private async runtimeChoice(): Promise<PageRuntimeChoice> {
    const { ctx } = await chooseGpu(this.preference);
    ctx?.device.destroy();
    return pageRuntimeChoice(ctx);
  }

  /**
   * Opens a model for running, in place of the one open. An open that a newer one supersedes, or that Cancel
   * stops, ends with CancelledError between two weights and releases what it built: the session then holds
   * the model asked for last, never an older one that happened to finish later.
   */
  async open(request: { model: ModelInput; original: ModelInput | null; layer: number }, onProgress?: OpenProgress): Promise<TextModelInfo> {
    const generation = ++this.openGeneration;
    this.cancelled = false;
    const live = () => {
      if (generation !== this.openGeneration) throw new CancelledError();
      this.tick();
    };
    await this.model?.lm.release();
    this.model = null;
    this.originalMatrix = null;
    this.triplets = null;
    this.checkpoint = null;
    this.originalCheckpoint = null;
    const { checkpoint, resolve } = await openModelInput(request.model);
    const tokenizer = await loadTokenizerBeside(resolve, checkpoint.label);
    // What the runtime cannot hold is refused from the header (wasm: its 4 GiB heap; WebGPU: its largest buffer).
    const runtime = { ort: this.ort, ...(await this.runtimeChoice()) };
    live();
    const model = await openTextModel(runtime, checkpoint, tokenizer, request.layer, {
      onProgress: (done, total, message) => {
        live();
        onProgress?.(done, total, message);
      },
    });
    let original: { matrix: Float32Array; checkpoint: Checkpoint } | null = null;
    try {
      live();
      if (request.original) {
        const originalCheckpoint = (await openModelInput(request.original)).checkpoint;
        const matrix = (await readLayerRows(originalCheckpoint, request.layer)).data;
        if (matrix.length !== model.storedMatrix.length) throw new FormatError(originalCheckpoint.label, `layer ${request.layer}'s matrix has another shape than the model's: not its original`);
        original = { matrix, checkpoint: originalCheckpoint };
        live();
      }
    } catch (error) {
      await model.lm.release();
      throw error;
    }
    this.originalMatrix = original?.matrix ?? null;
    this.originalCheckpoint = original?.checkpoint ?? null;
    this.checkpoint = checkpoint;
    this.tokenizer = tokenizer;
    this.model = model;
    this.current = 'model';
    return { family: model.family, layer: model.layer, hasOriginal: this.originalMatrix !== null, executionProvider: model.lm.executionProvider, threads: this.ort.env.wasm.numThreads ?? 1 };
  }

  /** Top-k and greedy continuation with the chosen matrix (swapped in only when it changes). */
  async complete(prompt: string, variant: MatrixVariant, options: { topK?: number; tokens?: number } = {}): Promise<Completion> {
    const model = this.requireModel();
    await this.use(variant);
    return completePrompt(model, prompt, options);
  }

  cancel(): void {
    this.cancelled = true;
  }

  /**
   * Paper Sec. 7.2-7.3 over an edit bundle whose edits are relative to the original's matrix of this layer
   * (or, without an original, the loaded model's own), in this session.
   */
  async reversal(request: ReversalRequest, onProgress: (done: number, total: number, message: string) => void): Promise<ReversalResult> {
    const model = this.requireModel();
    this.cancelled = false;
    const bundle = await openEditBundle(await openFileInput(request.bundle));
    const edits = selectEdits(bundle, model.layer, { ...DEFAULT_REVERSAL, perRelation: request.perRelation });
    if (edits.length === 0) throw new FormatError(bundle.file, `has no successful main edits at layer ${model.layer} (its edits are at layers ${[...new Set(bundle.edits.map((e) => e.layer))].join(', ')})`);
    const [rows, cols] = model.lm.swapShape;
    const base = rowMatrix(rows, cols, this.originalMatrix ?? model.storedMatrix);
    this.current = '';
    return runReversal(model, base, bundle, edits, await this.matrixBackend(), DEFAULT_REVERSAL, { progress: onProgress, checkpoint: () => this.tick() });
  }

  /** Paper Fig. 8: unique 5-token predictions over k = 0..15, for this model's matrix and the original's. */
  async uniquePredictions(samplesInput: FileInput, onProgress: (message: string) => void): Promise<{ model: UniquePredictions; original: UniquePredictions | null; samples: number }> {
    const model = this.requireModel();
    this.cancelled = false;
    const samples = (await readTextLines(samplesInput, { maxBytes: 10_000_000, minChars: 50, maxLines: 1000 })).lines;
    const [rows, cols] = model.lm.swapShape;
    const backend = await this.matrixBackend();
    this.current = '';
    const run = (m: Float32Array, label: string) =>
      uniquePredictions(model, rowMatrix(rows, cols, m), samples, backend, { checkpoint: () => this.tick(), progress: (k, maxK) => onProgress(`${label}: k = ${k} of ${maxK}`) });
    const mine = await run(model.storedMatrix, 'this model');
    const theirs = this.originalMatrix ? await run(this.originalMatrix, 'the original') : null;
    return { model: mine, original: theirs, samples: samples.length };
  }

  /** Paper Tab. 1 over an edit bundle: relation-probe accuracy per number of classes. */
  async probeTable(bundleInput: FileInput, options: ProbeTableOptions, onProgress: (done: number, total: number, message: string) => void): Promise<ProbeTableRow[]> {
    this.cancelled = false;
    const bundle = await openEditBundle(await bufferedIfSmall(await openFileInput(bundleInput)));
    return probeTableOfBundle(bundle, options, (p) => onProgress(p.done, p.total, `${p.classes} classes: ${p.done} of ${p.total} fits`), () => this.tick());
  }

  /** A probe over every relation of the bundle, against the original's matrix; returns the probe file's JSON. */
  async trainProbe(bundleInput: FileInput, perRelation: number): Promise<string> {
    this.cancelled = false;
    if (!this.originalMatrix) throw new FormatError('(no original)', 'training a probe needs the original (unedited) model: the bundle\'s edits are relative to it');
    const model = this.requireModel();
    const bundle = await openEditBundle(await bufferedIfSmall(await openFileInput(bundleInput)));
    const [rows, cols] = model.lm.swapShape;
    const base = await (await this.matrixBackend()).load(rowMatrix(rows, cols, this.originalMatrix));
    try {
      return serializeProbe(await trainProbeFromBundle(bundle, base, perRelation, undefined, () => this.tick()));
    } finally {
      base.release();
    }
  }

  /** Relation and likely new object of the loaded layer (paper Sec. 5-6). */
  async trace(request: { probe: { name: string; text: string } | null; decoder: FileInput | null }, onProgress: (message: string) => void): Promise<TraceResult> {
    const model = this.requireModel();
    if (!this.checkpoint) throw new FormatError('(no model)', 'load a model first');
    this.cancelled = false;
    const probe = request.probe ? parseProbe(request.probe.name, request.probe.text) : null;
    const decoder = request.decoder ? await openFileInput(request.decoder) : null;
    const preloaded = { own: model.storedMatrix, original: this.originalMatrix };
    return traceLayer({ checkpoint: this.checkpoint, original: this.originalCheckpoint, layer: model.layer, tokenizer: this.tokenizer, probe, decoder, backend: await this.matrixBackend(), checkpointHook: () => this.tick(), onProgress, preloaded });
  }

  /** The repaired checkpoint file (W~(r, k) at this layer, or the original's matrix when given and `exact`). */
  async repairedFile(k: number, exact: boolean): Promise<{ blob: Blob; fileName: string; mode: string; sharded: boolean }> {
    const model = this.requireModel();
    if (!this.checkpoint) throw new FormatError('(no model)', 'load a model first');
    this.cancelled = false;
    const plan = await planRepair(this.checkpoint, model.layer, k, await this.matrixBackend(), { original: exact ? this.originalCheckpoint : null, checkpoint: () => this.tick() });
    const blob = await patchedBlob(plan.patch, () => this.tick());
    return { blob, fileName: plan.fileName, mode: plan.mode, sharded: plan.sharded };
  }

  private requireModel(): TextModel {
    if (!this.model) throw new FormatError('(no model)', 'load a model before running prompts');
    return this.model;
  }

  private tick(): void {
    if (this.cancelled) throw new CancelledError();
  }

  private async use(variant: MatrixVariant): Promise<void> {
    const model = this.requireModel();
    const key = typeof variant === 'string' ? variant : `k${variant.approximatedK}`;
    if (key === this.current) return;
    if (variant === 'original') {
      if (!this.originalMatrix) throw new FormatError('(no original)', 'give the original checkpoint to compare with');
      await model.lm.setSwap(this.originalMatrix, 'original');
    } else if (variant === 'model') {
      await model.lm.setSwap(model.storedMatrix, 'model');
    } else {
      const k = variant.approximatedK;
      if (!Number.isInteger(k) || k < 0 || k > 64) throw new FormatError('k', `must be an integer from 0 to 64 (got ${k})`);
      const [rows, cols] = model.lm.swapShape;
      const m = rowMatrix(rows, cols, model.storedMatrix);
      if (!this.triplets || this.triplets.k < k) this.triplets = await accurateTopTriplets(await this.matrixBackend(), m, Math.max(16, k));
      await model.lm.setSwap(k === 0 ? model.storedMatrix : dropTopComponents(m, this.triplets, k).data);
    }
    this.current = key;
  }

  /** Small matrices (the demo's 384 x 96) stay in TypeScript, where they beat any dispatch overhead. */
  private async matrixBackend(): Promise<MatrixBackend> {
    const model = this.requireModel();
    const [rows, cols] = model.lm.swapShape;
    if (rows * cols < 1 << 20) return cpuBackend;
    return this.gpuOrCpu();
  }

  private gpuOrCpu(): Promise<MatrixBackend> {
    this.backend ??= (async () => {
      const { ctx } = await chooseGpu(this.preference);
      return ctx ? gpuBackend(ctx) : residentMatrixBackend();
    })();
    return this.backend;
  }
}
