/// <reference lib="webworker" />
// The page's editor worker: ROME on the CPU engine (src/edit), one call at a time (Cancel excepted). The
// engine's matrix products run on the WebAssembly SIMD kernel (4-7x the TypeScript one), where available.
import { expose } from 'comlink';
import { EditSession } from '../analysis/editSession';
import { useGemmKernel } from '../edit/engine/gemm';
import { wasmGemmNT } from '../wasm/wasmGemm';
import { serialized } from './serialized';

useGemmKernel(wasmGemmNT());
expose(serialized(new EditSession(), ['cancel']));
