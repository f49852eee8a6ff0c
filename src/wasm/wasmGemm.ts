import { type GemmNT, gemmNTReference } from '../core/gemm';
import { instantiateKernels, kernelModule } from './kernelModule';

const PAGE = 65536;

/**
 * The engine's GEMM on WebAssembly SIMD (shaders/gemm.wat): C (+)= A B^T, synchronous like the TypeScript
 * reference it replaces (src/core/gemm.ts), so the engine's ops call it as they are. The operands are copied
 * into the module's memory per call (A, B and C side by side, grown as needed); a product too large for it
 * falls back to the reference. Null where WebAssembly SIMD is unavailable.
 */
export function wasmGemmNT(): GemmNT | null {
  let kernels: ReturnType<typeof instantiateKernels>;
  try {
    kernels = instantiateKernels(kernelModule(false));
  } catch {
    return null;
  }
  const { memory } = kernels;
  const gemm = kernels.exports.gemmNT;
  const align = (bytes: number) => Math.ceil(bytes / 16) * 16;
  return (a, m, k, b, n, c, accumulate = false) => {
    if (m === 0 || n === 0) return;
    if (k === 0) {
      if (!accumulate) c.fill(0, 0, m * n);
      return;
    }
    const aBytes = align(m * k * 4);
    const bBytes = align(n * k * 4);
    const need = aBytes + bBytes + m * n * 4;
    if (need > memory.buffer.byteLength) {
      try {
        memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
      } catch {
        gemmNTReference(a, m, k, b, n, c, accumulate);
        return;
      }
    }
    const heap = new Float32Array(memory.buffer);
    heap.set(a.subarray(0, m * k), 0);
    heap.set(b.subarray(0, n * k), aBytes / 4);
    const cAt = (aBytes + bBytes) / 4;
    if (accumulate) heap.set(c.subarray(0, m * n), cAt);
    gemm(0, aBytes, aBytes + bBytes, m, n, k, accumulate ? 1 : 0);
    c.set(heap.subarray(cAt, cAt + m * n), 0);
  };
}
