import { cpuBackend, type MatrixBackend } from '../core/matrixBackend';
import { rowMatrix } from '../core/matrix';
import { customFamily } from '../families/customFamily';
import type { ModelFamily } from '../families/modelFamily';
import type { Checkpoint } from '../formats/checkpoint';
import { CancelledError, FormatError } from '../formats/formatError';
import { chooseGpu, type ComputePreference } from '../gpu/computeChoice';
import { type PageRuntimeChoice, pageRuntimeChoice } from '../lm/pageRuntime';
import { gpuBackend } from '../gpu/gpuMatrix';
import { type ModelInput, openModelInput } from './modelInput';
import { readLayerRows } from './layerMatrix';
import { type ScanProgress, type ScanResult, scanModel } from './scanModel';

/** Where a model comes from: files the user dropped or picked, or a URL read with HTTP Range. */
export type { ModelInput } from './modelInput';

export interface ScanRequest {
  model: ModelInput;
  original: ModelInput | null;
  k: number;
  oversampling: number;
  powerIterations: number;
  /** For layouts the registry does not know. */
  tensorPattern?: string;
  rowsAxis?: 0 | 1;
}

export interface BackendInfo {
  kind: 'webgpu' | 'cpu';
  description: string;
  /** Why the CPU is used, when it is. */
  fallbackReason: string | null;
}

/** Serializable error for the UI: the message is shown as is. */
export interface AnalysisFailure {
  kind: 'format' | 'cancelled' | 'internal';
  message: string;
}

/**
 * The state one page keeps in its worker: the backend, the opened checkpoints (for later per-layer views),
 * and a cancel flag polled by long work.
 */
export class AnalysisSession {
  private backend: Promise<{ backend: MatrixBackend; info: BackendInfo; textRuntime: PageRuntimeChoice }> | null = null;
  private cancelled = false;
  /** Aborts the reads of the running scan (a URL that stalls must not outlive Cancel). */
  private reads = new AbortController();
  private model: Checkpoint | null = null;
  private family: ModelFamily | undefined;

  private preference: ComputePreference = 'auto';

  /** `cpu`: the CPU backend when no (hardware) GPU is chosen: the page's wasm kernels; the TypeScript reference by default. */
  constructor(private readonly cpu: MatrixBackend = cpuBackend) {}

  /** Where to compute (the page's ?backend=), then the backend chosen and why. */
  backendInfo(preference: ComputePreference = 'auto'): Promise<BackendInfo> {
    if (preference !== this.preference) this.backend = null;
    this.preference = preference;
    return this.acquireBackend().then((b) => b.info);
  }

  cancel(): void {
    this.cancelled = true;
    this.reads.abort();
  }

  async scan(request: ScanRequest, onProgress: (p: ScanProgress) => void): Promise<ScanResult> {
    this.cancelled = false;
    this.reads = new AbortController();
    const { backend, textRuntime } = await this.acquireBackend();
    onProgress({ fraction: 0, layer: null, message: 'opening files' });
    const signal = this.reads.signal;
    const model = (await openModelInput(request.model, { signal })).checkpoint;
    const original = request.original ? (await openModelInput(request.original, { signal })).checkpoint : null;
    this.family = request.tensorPattern ? customFamily(request.tensorPattern, request.rowsAxis ?? 0) : undefined;
    this.model = model;
    return scanModel(model, {
      backend,
      original,
      family: this.family,
      k: request.k,
      oversampling: request.oversampling,
      powerIterations: request.powerIterations,
      onProgress,
      isCancelled: () => this.cancelled,
      textRuntime,
    });
  }

  /** Cosine matrix of rows [start, start + count) of one layer's MLP output matrix (count <= 1024). */
  async cosineHeatmap(layer: number, start: number, count: number): Promise<{ start: number; count: number; values: Float32Array }> {
    if (!this.model) throw new Error('scan a model first');
    const { backend } = await this.acquireBackend();
    const m = await readLayerRows(this.model, layer, { family: this.family });
    const first = Math.max(0, Math.min(start, m.rows - 1));
    const n = Math.max(1, Math.min(count, 1024, m.rows - first));
    const loaded = await backend.load(rowMatrix(m.rows, m.cols, m.data));
    try {
      return { start: first, count: n, values: await loaded.cosineBlock(first, n) };
    } finally {
      loaded.release();
    }
  }

  private acquireBackend(): Promise<{ backend: MatrixBackend; info: BackendInfo; textRuntime: PageRuntimeChoice }> {
    this.backend ??= (async () => {
      // The text worker chooses its GPU by the same rule, so the scan can say what running the model takes there.
      const { ctx, reason } = await chooseGpu(this.preference);
      const textRuntime = pageRuntimeChoice(ctx);
      if (ctx) {
        const backend = gpuBackend(ctx);
        return { backend, info: { kind: 'webgpu', description: backend.description, fallbackReason: null }, textRuntime };
      }
      return { backend: this.cpu, info: { kind: 'cpu', description: this.cpu.description, fallbackReason: reason }, textRuntime };
    })();
    return this.backend;
  }
}

/** Turns any thrown value into something the UI can show. */
export function describeFailure(error: unknown): AnalysisFailure {
  if (error instanceof CancelledError) return { kind: 'cancelled', message: 'Cancelled.' };
  if (error instanceof FormatError) return { kind: 'format', message: error.message };
  return { kind: 'internal', message: error instanceof Error ? error.message : String(error) };
}
