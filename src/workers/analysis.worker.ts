/// <reference lib="webworker" />
// The page's analysis worker: all heavy work (reading, kernels, SVD) runs here, off the UI thread. Without a
// hardware GPU the matrix products run on onnxruntime-web's wasm kernels (the same build and wasm file as
// the language-model worker: one copy ships).
import { expose } from 'comlink';
import * as ort from 'onnxruntime-web/webgpu';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import { AnalysisSession } from '../analysis/analysisSession';
import { wasmMatrixBackend } from '../lm/wasmMatrixBackend';

ort.env.wasm.wasmPaths = { wasm: wasmUrl };
ort.env.logLevel = 'error';
// Two threads need cross-origin isolation (COOP/COEP headers, set by the dev and preview servers).
ort.env.wasm.numThreads = self.crossOriginIsolated ? 2 : 1;

expose(new AnalysisSession(wasmMatrixBackend(ort)));
