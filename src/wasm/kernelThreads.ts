import { instantiateKernels, type KernelExports, type KernelName } from './kernelModule';

/** A thread that runs kernels on the shared memory: in this thread, or a worker (messages carry addresses only). */
export interface KernelThread {
  run(kernel: KernelName, args: number[]): Promise<void>;
}

/** Kernels run here, synchronously. */
export function localKernelThread(exports: KernelExports): KernelThread {
  return {
    async run(kernel, args) {
      (exports[kernel] as (...a: number[]) => void)(...args);
    },
  };
}

/** The two ends of a worker's message channel (a Web Worker, or Node's worker_threads). */
export interface KernelPort {
  post(message: unknown): void;
  listen(handler: (message: unknown) => void): void;
}

interface Reply {
  id: number;
  error?: string;
}

/**
 * A worker running kernels on `memory` (shared), started by sending it the compiled module and the memory;
 * calls are queued by the worker's message loop and answered in order.
 */
export function remoteKernelThread(port: KernelPort, module: WebAssembly.Module, memory: WebAssembly.Memory): KernelThread {
  let next = 0;
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  port.listen((message) => {
    const { id, error } = message as Reply;
    const w = waiting.get(id);
    if (!w) return;
    waiting.delete(id);
    if (error === undefined) w.resolve();
    else w.reject(new Error(`kernel thread: ${error}`));
  });
  const call = (message: Record<string, unknown>) =>
    new Promise<void>((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      port.post({ id, ...message });
    });
  const started = call({ module, memory });
  return {
    async run(kernel, args) {
      await started;
      await call({ kernel, args });
    },
  };
}

/** The worker's side: instantiates the kernels on the memory it is sent, then runs each call it receives. */
export function serveKernelCalls(port: KernelPort): void {
  let exports: KernelExports | null = null;
  port.listen((message) => {
    const m = message as { id: number; module?: WebAssembly.Module; memory?: WebAssembly.Memory; kernel?: KernelName; args?: number[] };
    try {
      if (m.module && m.memory) exports = instantiateKernels(m.module, m.memory).exports;
      else if (!exports) throw new Error('not started');
      else (exports[m.kernel as KernelName] as (...a: number[]) => void)(...(m.args ?? []));
      port.post({ id: m.id });
    } catch (e) {
      port.post({ id: m.id, error: e instanceof Error ? e.message : String(e) });
    }
  });
}
