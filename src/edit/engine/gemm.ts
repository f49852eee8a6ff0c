import { type GemmNT, gemmNTReference } from '../../core/gemm';

/**
 * The engine's one matrix product, C (+)= A * B^T. Plain TypeScript by default (the page); Node entry points
 * install a native kernel (src/native) that is 25x faster and gives the same sums to float32 rounding.
 */
let kernel: GemmNT = gemmNTReference;

/** Installs `k` as the engine's GEMM (null: back to the TypeScript reference). */
export function useGemmKernel(k: GemmNT | null): void {
  kernel = k ?? gemmNTReference;
}

export function gemmNT(a: Float32Array, m: number, k: number, b: Float32Array, n: number, c: Float32Array, accumulate = false): void {
  kernel(a, m, k, b, n, c, accumulate);
}
