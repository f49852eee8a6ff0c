/// <reference lib="webworker" />
// The page's analysis worker: all heavy work (reading, kernels, SVD) runs here, off the UI thread. Without a
// hardware GPU the matrix products run on the WebAssembly SIMD kernels, each matrix held once in their memory
// (src/wasm/residentMatrixBackend); in a cross-origin isolated page that memory is shared and kernel workers
// (one per core, up to 4) each take a block of rows.
import { expose } from 'comlink';
import { AnalysisSession } from '../analysis/analysisSession';
import { remoteKernelThread } from '../wasm/kernelThreads';
import { ResidentKernels } from '../wasm/residentKernels';
import { residentMatrixBackend } from '../wasm/residentMatrixBackend';

const kernels = new ResidentKernels(self.crossOriginIsolated);
const cores = Math.max(1, Math.min(4, self.navigator.hardwareConcurrency || 1));
const threads = kernels.shared && cores > 1
  ? Array.from({ length: cores }, (_, i) => {
      const worker = new Worker(new URL('./kernelThread.worker.ts', import.meta.url), { type: 'module', name: `kernels ${i + 1}` });
      return remoteKernelThread({ post: (m) => worker.postMessage(m), listen: (h) => worker.addEventListener('message', (e) => h(e.data)) }, kernels.module, kernels.memory);
    })
  : undefined;

expose(new AnalysisSession(residentMatrixBackend(kernels, threads)));
