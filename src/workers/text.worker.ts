/// <reference lib="webworker" />
// The page's language-model worker: onnxruntime-web (one build: the native WebGPU bundle, whose wasm also
// runs the CPU path), its wasm file served by the app itself, no CDN.
import { expose } from 'comlink';
import * as ort from 'onnxruntime-web/webgpu';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import { TextSession } from '../analysis/textSession';
import { serialized } from './serialized';

ort.env.wasm.wasmPaths = { wasm: wasmUrl };
// Errors only: the runtime's warnings (ANSI-coloured, about graph optimisations) mean nothing to a reader.
ort.env.logLevel = 'error';
// Two threads need cross-origin isolation (COOP/COEP headers, set by the dev and preview servers).
ort.env.wasm.numThreads = self.crossOriginIsolated ? 2 : 1;

// One call at a time (cancel and the preference excepted): the runtime's sessions are not re-entrant.
expose(serialized(new TextSession(ort), ['cancel', 'setPreference']));
