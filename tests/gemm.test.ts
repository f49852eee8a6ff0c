import { describe, expect, it } from 'vitest';
import { type GemmNT, gemmNTReference } from '../src/core/gemm';
import { transpose } from '../src/core/matrix';
import { SeededRandom } from '../src/core/random';
import { gemmNT, useGemmKernel } from '../src/edit/engine/gemm';
import { nativeGemmNT } from '../src/native/nativeGemm';
import { nativeRuntimeError } from '../src/native/onnxRuntimeNode';

const rng = new SeededRandom(5);
const native = nativeGemmNT(1);
const nativeTwo = nativeGemmNT(2);

/** Shapes [m, k, n]: odd, thin, one-sided and large enough for the native path (>= 32768 multiply-adds). */
const SHAPES = [
  [1, 1, 1],
  [5, 7, 3],
  [64, 17, 65],
  [37, 129, 65],
  [200, 96, 384],
  [1, 4096, 17],
  [333, 77, 1],
  [0, 5, 3],
] as const;

function bruteForce(a: Float32Array, m: number, k: number, b: Float32Array, n: number, start: Float32Array): Float64Array {
  const out = Float64Array.from(start);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) out[i * n + j] = (out[i * n + j] as number) + (a[i * k + p] as number) * (b[j * k + p] as number);
  return out;
}

function checkKernel(kernel: GemmNT) {
  for (const [m, k, n] of SHAPES) {
    // Operands as views into longer buffers, as the engine passes them; B in shared memory, as the
    // trainer's parameters are.
    const a = rng.gaussianArray(m * k + 11).subarray(3, 3 + m * k);
    const b = new Float32Array(new SharedArrayBuffer(4 * (n * k + 5)), 20, n * k);
    b.set(rng.gaussianArray(n * k));
    const start = rng.gaussianArray(m * n);
    for (const accumulate of [false, true]) {
      const c = Float32Array.from(start);
      kernel(a, m, k, b, n, c, accumulate);
      const expected = bruteForce(a, m, k, b, n, accumulate ? start : new Float32Array(m * n));
      for (let i = 0; i < m * n; i++) expect(Math.abs((c[i] as number) - (expected[i] as number)), `${m}x${k}x${n} at ${i}`).toBeLessThan(2e-5 * Math.sqrt(k) * 4);
    }
  }
}

describe('GEMM C (+)= A B^T', () => {
  it('TypeScript reference equals brute force on every shape', () => checkKernel(gemmNTReference));
  it('onnxruntime-node loads here', () => expect(native, nativeRuntimeError()).not.toBeNull());
  it('native kernel (1 and 2 threads) equals brute force on every shape', () => {
    checkKernel(native as GemmNT);
    checkKernel(nativeTwo as GemmNT);
  });
  it('the engine uses the installed kernel and falls back to the reference', () => {
    let calls = 0;
    useGemmKernel((...args) => {
      calls++;
      gemmNTReference(...args);
    });
    const c = new Float32Array(1);
    gemmNT(Float32Array.of(2), 1, 1, Float32Array.of(3), 1, c);
    useGemmKernel(null);
    gemmNT(Float32Array.of(2), 1, 1, Float32Array.of(3), 1, c, true);
    expect([calls, c[0]]).toEqual([1, 12]);
    expect(Array.from(transpose(Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 3))).toEqual([1, 4, 2, 5, 3, 6]);
  });
});
