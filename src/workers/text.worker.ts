/// <reference lib="webworker" />
// The page's language-model worker: onnxruntime-web (one build: the native WebGPU bundle, whose wasm also
// runs the CPU path), its wasm file served by the app itself, no CDN.
import { expose } from 'comlink';
import * as ort from 'onnxruntime-web/webgpu';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import { TextSession } from '../analysis/textSession';

ort.env.wasm.wasmPaths = { wasm: wasmUrl };
// Two threads need cross-origin isolation (COOP/COEP headers, set by the dev and preview servers).
ort.env.wasm.numThreads = self.crossOriginIsolated ? 2 : 1;

async function executionProvider(): Promise<'wasm' | 'webgpu'> {
  const adapter = await navigator.gpu?.requestAdapter().catch(() => null);
  return adapter ? 'webgpu' : 'wasm';
}

expose(new TextSession(ort, executionProvider));
