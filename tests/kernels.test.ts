import { describe, expect, it } from 'vitest';
import { cpuBackend, type MatrixBackend } from '../src/core/matrixBackend';
import { rowMatrix } from '../src/core/matrix';
import { multiply, multiplyTransposed } from '../src/core/matmul';
import { cosineBlock as referenceCosineBlock, pairwiseCosine } from '../src/core/pairwiseCosine';
import { SeededRandom } from '../src/core/random';
import { gpuBackend } from '../src/gpu/gpuMatrix';
import { nativeBackend } from '../src/native/nativeMatrixBackend';
import { nativeWorkerBackend } from '../src/native/nativeWorkerBackend';
import { localKernelThread } from '../src/wasm/kernelThreads';
import { ResidentKernels } from '../src/wasm/residentKernels';
import { residentMatrixBackend } from '../src/wasm/residentMatrixBackend';
import { bruteCosine, bruteForcePcs, bruteMatmul, maxAbsDiff } from './helpers/independentMath';
import { requireOrSkip } from './helpers/gpu';
import { KERNEL_CASES } from './kernelCases';

const gpu = await requireOrSkip();
// The page's CPU path with its rows split in three blocks (three threads' worth, run here) on a shared memory.
const sharedKernels = new ResidentKernels(true);
const threeBlocks = residentMatrixBackend(sharedKernels, [0, 1, 2].map(() => localKernelThread(sharedKernels.exports)), { splitMinWork: 0 });

/** Every backend runs the same case table (the tfjs habit). The tiled GPU variant forces several row tiles. */
const BACKENDS: { name: string; backend: MatrixBackend | null }[] = [
  { name: 'cpu', backend: cpuBackend },
  { name: 'cpu with native products (onnxruntime-node)', backend: nativeBackend(1) },
  { name: 'cpu with native products in a kernel thread (the CLI with 4 cores or more)', backend: nativeWorkerBackend(1) },
  { name: 'cpu with resident WebAssembly SIMD kernels', backend: residentMatrixBackend() },
  { name: 'cpu with resident WebAssembly SIMD kernels, rows split in three blocks', backend: threeBlocks },
  { name: 'webgpu', backend: gpu ? gpuBackend(gpu) : null },
  { name: 'webgpu tiled (97 rows per tile)', backend: gpu ? gpuBackend(gpu, { maxRowsPerTile: 97 }) : null },
];

for (const { name, backend } of BACKENDS) {
  describe.skipIf(!backend)(`kernels on ${name}`, () => {
    for (const c of KERNEL_CASES) {
      describe(c.name, () => {
        const data = c.make();
        const m = rowMatrix(c.rows, c.cols, data);

        it('pcs equals the brute-force mean pairwise cosine and the reference', async () => {
          const loaded = await backend!.load(m);
          const got = await loaded.pairwiseCosine();
          loaded.release();
          const brute = bruteForcePcs(data, c.rows, c.cols);
          expect(got.zeroRows).toBe(brute.zeroRows);
          expect(got.usedRows).toBe(c.rows - brute.zeroRows);
          expect(Math.abs(got.pcs - brute.pcs)).toBeLessThan(1e-6 + 1e-5 * Math.abs(brute.pcs));
          const reference = pairwiseCosine(m);
          expect(Math.abs(got.pcs - reference.pcs)).toBeLessThan(1e-6);
        });

        it('cosine block equals brute-force cosines and the reference', async () => {
          const start = Math.min(c.rows - 1, 3);
          const count = Math.min(c.rows - start, 70);
          const loaded = await backend!.load(m);
          const got = await loaded.cosineBlock(start, count);
          loaded.release();
          expect(got.length).toBe(count * count);
          const brute = new Float64Array(count * count);
          for (let a = 0; a < count; a++) for (let b = 0; b < count; b++) brute[a * count + b] = bruteCosine(data, c.cols, start + a, start + b);
          expect(maxAbsDiff(got, brute)).toBeLessThan(2e-5);
          expect(maxAbsDiff(got, referenceCosineBlock(m, start, count))).toBeLessThan(2e-5);
        });

        for (const l of [1, 7, 26]) {
          it(`A*B and A^T*B with a ${l}-column panel equal brute force and the reference`, async () => {
            const rng = new SeededRandom(l * 31 + c.rows);
            const b = rng.gaussianArray(c.cols * l);
            const q = rng.gaussianArray(c.rows * l);
            const loaded = await backend!.load(m);
            const ab = await loaded.multiply(b, l);
            const atq = await loaded.multiplyTransposed(q, l);
            loaded.release();
            const tolAb = 2e-5 * Math.sqrt(c.cols) * 4;
            const tolAtq = 2e-5 * Math.sqrt(c.rows) * 4;
            expect(maxAbsDiff(ab, bruteMatmul(data, c.rows, c.cols, b, l, false))).toBeLessThan(tolAb);
            expect(maxAbsDiff(atq, bruteMatmul(data, c.rows, c.cols, q, l, true))).toBeLessThan(tolAtq);
            expect(maxAbsDiff(ab, multiply(data, c.rows, c.cols, b, l))).toBeLessThan(tolAb);
            expect(maxAbsDiff(atq, multiplyTransposed(data, c.rows, c.cols, q, l))).toBeLessThan(tolAtq);
          });
        }
      });
    }

    it('pcs of identical rows is 1, and of rows split between x and -x is exactly -1/(n-1)', async () => {
      // n rows all equal: every pair has cosine 1.
      const same = new Float32Array(50 * 9).map((_, i) => (i % 9) + 1);
      const a = await backend!.load(rowMatrix(50, 9, same));
      expect((await a.pairwiseCosine()).pcs).toBeCloseTo(1, 5);
      a.release();
      // Half the rows x, half -x: pairs within a half give +1, across give -1.
      // Ordered pairs: within = 2 * h(h-1), across = 2 h^2, pcs = (2h(h-1) - 2h^2) / (n^2 - n) = -2h / (n(n-1)) = -1/(n-1).
      const h = 20;
      const n = 2 * h;
      const split = new Float32Array(n * 4);
      for (let i = 0; i < n; i++) for (let c2 = 0; c2 < 4; c2++) split[i * 4 + c2] = (i < h ? 1 : -1) * (c2 + 1);
      const b = await backend!.load(rowMatrix(n, 4, split));
      expect((await b.pairwiseCosine()).pcs).toBeCloseTo(-1 / (n - 1), 6);
      b.release();
    });
  });
}
