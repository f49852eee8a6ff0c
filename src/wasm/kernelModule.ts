import { GEMM_SHARED_WASM_BASE64, GEMM_WASM_BASE64 } from './gemmBinary';

/** The kernels of shaders/gemm.wat; addresses are byte offsets into the module's memory. */
export interface KernelExports {
  gemmNT(a: number, b: number, c: number, m: number, n: number, k: number, accumulate: number): void;
  gemmTN(a: number, b: number, ct: number, m: number, k: number, l: number, chunk: number): void;
  rowSumSquares(a: number, out: number, m: number, k: number): void;
}

export type KernelName = keyof KernelExports;

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

const modules: { own?: WebAssembly.Module; shared?: WebAssembly.Module } = {};

/** The compiled kernels: with their own memory, or importing a shared one (for kernel threads). */
export function kernelModule(shared: boolean): WebAssembly.Module {
  const key = shared ? 'shared' : 'own';
  return (modules[key] ??= new WebAssembly.Module(decodeBase64(shared ? GEMM_SHARED_WASM_BASE64 : GEMM_WASM_BASE64)));
}

/** An instance over `memory` (a shared memory, imported), or over its own memory. */
export function instantiateKernels(module: WebAssembly.Module, memory?: WebAssembly.Memory): { exports: KernelExports; memory: WebAssembly.Memory } {
  const instance = new WebAssembly.Instance(module, memory ? { env: { memory } } : {});
  return { exports: instance.exports as unknown as KernelExports, memory: memory ?? (instance.exports['memory'] as WebAssembly.Memory) };
}
