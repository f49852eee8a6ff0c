import { createRequire } from 'node:module';

/**
 * onnxruntime-node's synchronous binding. The package's public `run` is asynchronous only (it defers the same
 * synchronous native call with setImmediate); kernels called from synchronous code (the forge engine's ops)
 * need the call itself. Loaded lazily: a machine without the native package still runs the TypeScript paths.
 */
export interface NativeSession {
  run(feeds: Record<string, unknown>, fetches: Record<string, null>, options: object): Record<string, { data: Float32Array; dims: readonly number[] }>;
}

export interface NativeRuntime {
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
  /** A session over an in-memory ONNX model, run on `threads` intra-op threads. */
  session(model: Uint8Array, threads: number): NativeSession;
}

let loaded: NativeRuntime | null | undefined;
let loadError = '';

/** The runtime, or null (see `nativeRuntimeError`) when onnxruntime-node cannot be loaded here. */
export function nativeRuntime(): NativeRuntime | null {
  if (loaded !== undefined) return loaded;
  try {
    const require = createRequire(import.meta.url);
    const ort = require('onnxruntime-node') as { Tensor: NativeRuntime['Tensor'] };
    const { binding, initOrt } = require('onnxruntime-node/dist/binding') as {
      binding: { InferenceSession: new () => NativeSession & { loadModel(b: ArrayBuffer, o: number, l: number, opts: object): void } };
      initOrt(): void;
    };
    initOrt();
    loaded = {
      Tensor: ort.Tensor,
      session(model, threads) {
        const s = new binding.InferenceSession();
        s.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
        return s;
      },
    };
  } catch (e) {
    loadError = e instanceof Error ? e.message : String(e);
    loaded = null;
  }
  return loaded;
}

export function nativeRuntimeError(): string {
  return loadError;
}
