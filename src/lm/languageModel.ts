import type * as Ort from 'onnxruntime-web';
import type { BuiltGraph } from './graphs/graphTypes';
import { encodeModel } from './onnx/onnxModel';
import { MemoryWeightSink, WASM_HEAP_BYTES, type WeightSink } from './onnx/weightSink';
import type { HalfType } from './onnx/graphBuilder';
import { KEEP_HALF_MIN_VALUES, type RuntimeCapacity } from './modelNeeds';
import { argmax, topIndices } from '../core/ranking';

export type OrtModule = typeof Ort;

/** wasm and webgpu: onnxruntime-web; cpu: onnxruntime-node's native kernels (the CLI). */
export type ExecutionProvider = 'wasm' | 'webgpu' | 'cpu';

/**
 * How a language model is run: the runtime module, its execution provider, what it can hold, and how a graph's
 * weights reach a session. Without `openSession`, weights stay in memory and reach the session as
 * onnxruntime-web's `externalData` (what the page does).
 */
export interface TextRuntime {
  ort: OrtModule;
  executionProvider: ExecutionProvider;
  /** What the runtime can hold: checked against the checkpoint's header before a weight is read. */
  capacity?: RuntimeCapacity;
  /** The 16-bit types its Cast runs on its own device: weights it may keep as stored when float32 does not fit. */
  halfTypes?: readonly HalfType[];
  /** Builds the graph into this runtime's weight store (the sink given to `build`) and opens a session over it. */
  openSession?(build: (sink: WeightSink) => Promise<BuiltGraph>): Promise<{ session: Ort.InferenceSession; built: BuiltGraph }>;
}

/**
 * Session options a graph needs: with 16-bit weights, optimisations stay at the basic level and no constant
 * as large as a kept weight's float32 cast is folded, else the runtime would fold each cast into a float32
 * copy at load (measured on onnxruntime 1.30, web and node: 'all' folds them even when folding is capped;
 * 'basic' with the cap does not).
 */
export function graphSessionOptions(built: BuiltGraph): Ort.InferenceSession.SessionOptions {
  if (!built.castsWeights) return {};
  return {
    graphOptimizationLevel: 'basic',
    extra: { optimization: { constant_folding_max_output_size_in_bytes: String(4 * KEEP_HALF_MIN_VALUES - 1) } },
    // Errors only: otherwise one warning per weight says its cast was not folded, which is the point.
    logSeverityLevel: 3,
  };
}

/** A session over weights held in memory (onnxruntime-web's `externalData`, one entry per weight). */
async function openInMemory(ort: OrtModule, built: BuiltGraph, executionProvider: ExecutionProvider): Promise<Ort.InferenceSession> {
  if (!(built.weights instanceof MemoryWeightSink)) throw new Error('this runtime takes weights held in memory; give it an openSession for other sinks');
  return ort.InferenceSession.create(encodeModel(built.model), {
    executionProviders: [executionProvider],
    externalData: built.weights.files(),
    ...graphSessionOptions(built),
  });
}

export interface TopToken {
  id: number;
  probability: number;
}

/**
 * One ONNX session of a language model whose chosen MLP output matrix is a graph input: `setSwap` decides
 * which version of it (original, edited, approximated) the next runs use, without rebuilding the session.
 */
export class LanguageModel {
  private swap: Ort.Tensor | null = null;
  /** The uncached upload in use (destroyed when replaced). */
  private swapBuffer: { destroy(): void } | null = null;
  private readonly cachedBuffers = new Map<string, GPUBuffer>();

  private constructor(
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    readonly swapShape: [number, number],
    readonly executionProvider: ExecutionProvider,
    readonly maxPositions: number,
  ) {}

  /** A session over a graph built in memory (onnxruntime-web). */
  static async create(ort: OrtModule, built: BuiltGraph, executionProvider: ExecutionProvider = 'wasm'): Promise<LanguageModel> {
    const session = await openInMemory(ort, built, executionProvider);
    return new LanguageModel(ort, session, built.swapShape, executionProvider, built.maxPositions);
  }

  /** Builds a graph into the runtime's weight store and opens it (memory by default, a file on the native runtime). */
  static async open(runtime: TextRuntime, build: (sink: WeightSink) => Promise<BuiltGraph>): Promise<LanguageModel> {
    const { session, built } = runtime.openSession
      ? await runtime.openSession(build)
      : await build(new MemoryWeightSink(runtime.executionProvider === 'wasm' ? WASM_HEAP_BYTES : Infinity)).then(async (b) => ({ built: b, session: await openInMemory(runtime.ort, b, runtime.executionProvider) }));
    return new LanguageModel(runtime.ort, session, built.swapShape, runtime.executionProvider, built.maxPositions);
  }

  /**
   * The MLP matrix the next runs use, [d_ff, d_model] row-major. On WebGPU it is uploaded into a GPU buffer
   * (Tensor.fromGpuBuffer), so runs do not copy it again; with a `cacheKey` ('model', 'original') the buffer
   * is kept, and switching back to that key uploads nothing.
   */
  async setSwap(matrix: Float32Array, cacheKey?: string): Promise<void> {
    const [rows, cols] = this.swapShape;
    if (matrix.length !== rows * cols) throw new RangeError(`swap matrix has ${matrix.length} values, the graph expects ${rows} x ${cols}`);
    this.swapBuffer?.destroy();
    this.swapBuffer = null;
    if (this.executionProvider === 'webgpu') {
      let buffer = cacheKey ? this.cachedBuffers.get(cacheKey) : undefined;
      if (!buffer) {
        const device = (await this.ort.env.webgpu.device) as GPUDevice;
        buffer = device.createBuffer({ size: matrix.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
        device.queue.writeBuffer(buffer, 0, matrix.buffer, matrix.byteOffset, matrix.byteLength);
        if (cacheKey) this.cachedBuffers.set(cacheKey, buffer);
        else this.swapBuffer = buffer;
      }
      this.swap = this.ort.Tensor.fromGpuBuffer(buffer, { dataType: 'float32', dims: [rows, cols] });
    } else {
      this.swap = new this.ort.Tensor('float32', matrix, [rows, cols]);
    }
  }

  /** Next-token log-probabilities after each prompt (token ids); prompts of equal length share one run. */
  async nextTokenLogProbs(prompts: readonly Int32Array[]): Promise<Float32Array[]> {
    if (!this.swap) throw new Error('setSwap first: the model needs its MLP matrix');
    const out: Float32Array[] = new Array(prompts.length);
    const groups = new Map<number, number[]>();
    prompts.forEach((p, i) => {
      if (p.length === 0) throw new RangeError(`prompt ${i} is empty`);
      if (p.length > this.maxPositions) throw new RangeError(`prompt ${i} has ${p.length} tokens; the model takes at most ${this.maxPositions}`);
      groups.set(p.length, [...(groups.get(p.length) ?? []), i]);
    });
    for (const [seq, members] of groups) {
      const ids = new BigInt64Array(members.length * seq);
      members.forEach((m, r) => (prompts[m] as Int32Array).forEach((t, j) => (ids[r * seq + j] = BigInt(t))));
      const positions = BigInt64Array.from({ length: members.length * seq }, (_, i) => BigInt(i % seq));
      const result = await this.session.run({
        input_ids: new this.ort.Tensor('int64', ids, [members.length, seq]),
        position_ids: new this.ort.Tensor('int64', positions, [members.length, seq]),
        swap_weight: this.swap,
      });
      const logits = (await result['logits']!.getData()) as Float32Array;
      const vocab = logits.length / (members.length * seq);
      members.forEach((m, r) => (out[m] = logSoftmax(logits.subarray((r * seq + seq - 1) * vocab, (r * seq + seq) * vocab))));
      result['logits']!.dispose();
    }
    return out;
  }

  /** Greedy continuation of `count` tokens (fewer if the model's context fills up). */
  async generate(prompt: Int32Array, count: number): Promise<number[]> {
    return (await this.generateBatch([prompt], count))[0] as number[];
  }

  /**
   * Greedy continuations of many prompts at once: each step is one batched call (prompts of equal length
   * share a run), so n prompts cost `count` calls per distinct length instead of n x `count`.
   */
  async generateBatch(prompts: readonly Int32Array[], count: number): Promise<number[][]> {
    const tokens = prompts.map((p) => [...p]);
    const out: number[][] = prompts.map(() => []);
    for (let step = 0; step < count; step++) {
      const live = tokens.map((_, i) => i).filter((i) => (tokens[i] as number[]).length < this.maxPositions);
      if (live.length === 0) break;
      const logps = await this.nextTokenLogProbs(live.map((i) => Int32Array.from(tokens[i] as number[])));
      live.forEach((i, j) => {
        const next = argmax(logps[j] as Float32Array);
        (tokens[i] as number[]).push(next);
        (out[i] as number[]).push(next);
      });
    }
    return out;
  }

  async release(): Promise<void> {
    this.swapBuffer?.destroy();
    for (const b of this.cachedBuffers.values()) b.destroy();
    this.cachedBuffers.clear();
    await this.session.release();
  }
}

export function logSoftmax(x: Float32Array): Float32Array {
  let max = -Infinity;
  for (const v of x) if (v > max) max = v;
  let sum = 0;
  for (const v of x) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  return Float32Array.from(x, (v) => v - lse);
}

export { argmax };

/** The k most likely tokens with their probabilities, most likely first. */
export function topK(logProbs: Float32Array, k: number): TopToken[] {
  return topIndices(logProbs, k).map((id) => ({ id, probability: Math.exp(logProbs[id] as number) }));
}
