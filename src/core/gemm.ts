import { dotProduct } from './matmul';

/** C (+)= A * B^T with A [m x k], B [n x k] row-major (the layout every GEMM here takes). */
export type GemmNT = (a: Float32Array, m: number, k: number, b: Float32Array, n: number, c: Float32Array, accumulate?: boolean) => void;

/**
 * The plain TypeScript GEMM, reference of the native one (src/native): C (+)= A * B^T with A [m x k], B [n x k] row-major, so every inner loop
 * walks two contiguous rows. Register-blocked 4 x 2 (eight running sums per pass: ~4.3 GFLOP/s on one core
 * here, against ~2.3 for plain dot products). Other layouts transpose an operand first: O(size) against
 * O(m n k) work.
 */
export function gemmNTReference(a: Float32Array, m: number, k: number, b: Float32Array, n: number, c: Float32Array, accumulate = false): void {
  if (!accumulate) c.fill(0, 0, m * n);
  const J_BLOCK = 32; // a block of B's rows stays in cache while A streams past
  for (let jb = 0; jb < n; jb += J_BLOCK) {
    const je = Math.min(n, jb + J_BLOCK);
    let i = 0;
    for (; i + 3 < m; i += 4) {
      const a0 = i * k;
      const a1 = a0 + k;
      const a2 = a1 + k;
      const a3 = a2 + k;
      let j = jb;
      for (; j + 1 < je; j += 2) {
        const b0 = j * k;
        const b1 = b0 + k;
        let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
        for (let p = 0; p < k; p++) {
          const y0 = b[b0 + p] as number;
          const y1 = b[b1 + p] as number;
          let x = a[a0 + p] as number;
          s00 += x * y0;
          s01 += x * y1;
          x = a[a1 + p] as number;
          s10 += x * y0;
          s11 += x * y1;
          x = a[a2 + p] as number;
          s20 += x * y0;
          s21 += x * y1;
          x = a[a3 + p] as number;
          s30 += x * y0;
          s31 += x * y1;
        }
        const c0 = i * n + j;
        c[c0] = (c[c0] as number) + s00;
        c[c0 + 1] = (c[c0 + 1] as number) + s01;
        c[c0 + n] = (c[c0 + n] as number) + s10;
        c[c0 + n + 1] = (c[c0 + n + 1] as number) + s11;
        c[c0 + 2 * n] = (c[c0 + 2 * n] as number) + s20;
        c[c0 + 2 * n + 1] = (c[c0 + 2 * n + 1] as number) + s21;
        c[c0 + 3 * n] = (c[c0 + 3 * n] as number) + s30;
        c[c0 + 3 * n + 1] = (c[c0 + 3 * n + 1] as number) + s31;
      }
      for (; j < je; j++) for (let r = 0; r < 4; r++) c[(i + r) * n + j] = (c[(i + r) * n + j] as number) + dotProduct(a, (i + r) * k, b, j * k, k);
    }
    for (; i < m; i++) for (let j = jb; j < je; j++) c[i * n + j] = (c[i * n + j] as number) + dotProduct(a, i * k, b, j * k, k);
  }
}
