import { Worker } from 'node:worker_threads';
import type { MatrixBackend } from '../src/core/matrixBackend';
import { remoteKernelThread } from '../src/wasm/kernelThreads';
import { ResidentKernels } from '../src/wasm/residentKernels';
import { residentMatrixBackend } from '../src/wasm/residentMatrixBackend';

/** The page's CPU path in Node: the resident WebAssembly kernels with `count` worker threads on a shared memory. */
export function wasmThreadsBackend(count: number): { backend: MatrixBackend; close: () => Promise<void> } {
  const kernels = new ResidentKernels(true);
  const workers = Array.from({ length: count }, () => new Worker(new URL('./kernelThreadNode.ts', import.meta.url)));
  const threads = workers.map((w) => remoteKernelThread({ post: (m) => w.postMessage(m), listen: (h) => w.on('message', h) }, kernels.module, kernels.memory));
  return { backend: residentMatrixBackend(kernels, threads), close: async () => void (await Promise.all(workers.map((w) => w.terminate()))) };
}
