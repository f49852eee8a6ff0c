/// <reference lib="webworker" />
// One kernel thread of the page's CPU path: runs WebAssembly SIMD kernels on the analysis worker's shared
// memory, in place (src/wasm/kernelThreads). Started by the analysis worker, one per core it uses.
import { serveKernelCalls } from '../wasm/kernelThreads';

serveKernelCalls({ post: (m) => self.postMessage(m), listen: (h) => self.addEventListener('message', (e) => h(e.data)) });
