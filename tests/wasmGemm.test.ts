import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { gemmNTReference } from '../src/core/gemm';
import { SeededRandom } from '../src/core/random';
import { GEMM_SHARED_WASM_BASE64, GEMM_WASM_BASE64 } from '../src/wasm/gemmBinary';
import { wasmGemmNT } from '../src/wasm/wasmGemm';
import { compileWat } from '../scripts/compileWat';
import { sharedMemoryVariant } from '../scripts/sharedMemoryVariant';

/** C = A B^T by the definition, in float64. */
function bruteNT(a: Float32Array, m: number, k: number, b: Float32Array, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += (a[i * k + p] as number) * (b[j * k + p] as number);
    c[i * n + j] = s;
  }
  return c;
}

describe('the WebAssembly SIMD GEMM (shaders/gemm.wat)', () => {
  const gemm = wasmGemmNT();

  it('is built from its text: the committed binary is what wabt compiles shaders/gemm.wat to', async () => {
    const binary = await compileWat('shaders/gemm.wat', readFileSync('shaders/gemm.wat', 'utf8'));
    expect(Buffer.from(binary).toString('base64')).toBe(GEMM_WASM_BASE64);
    const shared = await compileWat('shaders/gemm.wat', sharedMemoryVariant(readFileSync('shaders/gemm.wat', 'utf8')));
    expect(Buffer.from(shared).toString('base64')).toBe(GEMM_SHARED_WASM_BASE64);
  });

  // Odd sizes, sizes not divisible by the 4 x 2 tile, the 32-row block or the 4-float vector, and one large.
  const shapes: [number, number, number][] = [[1, 1, 1], [1, 5, 3], [3, 5, 7], [4, 2, 4], [5, 3, 9], [8, 32, 16], [17, 31, 13], [33, 65, 101], [64, 33, 100], [129, 67, 257], [7, 50, 768]];
  for (const [m, n, k] of shapes) {
    it(`C = A B^T and C += A B^T equal the float64 definition and the reference at m ${m}, n ${n}, k ${k}`, () => {
      expect(gemm).not.toBeNull();
      const rng = new SeededRandom(m * 1000 + n * 10 + k);
      // Operands as views at an offset, as the engine passes them.
      const aAll = rng.gaussianArray(m * k + 3);
      const bAll = rng.gaussianArray(n * k + 5);
      const a = aAll.subarray(3);
      const b = bAll.subarray(5);
      const exact = bruteNT(a, m, k, b, n);
      const tolerance = 1e-5 * Math.sqrt(k) * 4;
      const c = new Float32Array(m * n).fill(Number.NaN);
      gemm!(a, m, k, b, n, c);
      let worst = 0;
      for (let i = 0; i < m * n; i++) worst = Math.max(worst, Math.abs((c[i] as number) - (exact[i] as number)));
      expect(worst).toBeLessThan(tolerance);
      const reference = new Float32Array(m * n);
      gemmNTReference(a, m, k, b, n, reference);
      for (let i = 0; i < m * n; i++) expect(Math.abs((c[i] as number) - (reference[i] as number))).toBeLessThan(tolerance);
      // Accumulate: C0 + A B^T.
      const c0 = rng.gaussianArray(m * n);
      const acc = Float32Array.from(c0);
      gemm!(a, m, k, b, n, acc, true);
      for (let i = 0; i < m * n; i++) expect(Math.abs((acc[i] as number) - (c0[i] as number) - (exact[i] as number))).toBeLessThan(tolerance);
    });
  }

  it('grows its memory for large operands, and handles empty ones', () => {
    const rng = new SeededRandom(9);
    const [m, n, k] = [300, 700, 600];
    const a = rng.gaussianArray(m * k);
    const b = rng.gaussianArray(n * k);
    const c = new Float32Array(m * n);
    gemm!(a, m, k, b, n, c);
    const exact = bruteNT(a, m, k, b, n);
    expect(Math.abs((c[m * n - 1] as number) - (exact[m * n - 1] as number))).toBeLessThan(1e-3);
    expect(Math.abs((c[12345] as number) - (exact[12345] as number))).toBeLessThan(1e-3);
    const zero = new Float32Array(6).fill(7);
    gemm!(new Float32Array(0), 2, 0, new Float32Array(0), 3, zero);
    expect([...zero]).toEqual([0, 0, 0, 0, 0, 0]);
  });
});
