import { parentPort } from 'node:worker_threads';
import { serveKernelCalls } from '../src/wasm/kernelThreads';

// A kernel thread in Node (worker_threads), as the page's src/workers/kernelThread.worker.ts: for the bench.
serveKernelCalls({ post: (m) => parentPort?.postMessage(m), listen: (h) => parentPort?.on('message', h) });
