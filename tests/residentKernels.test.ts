import { describe, expect, it } from 'vitest';
import { rowMatrix } from '../src/core/matrix';
import { rowSumSquares } from '../src/core/pairwiseCosine';
import { SeededRandom } from '../src/core/random';
import { randomizedSvd } from '../src/core/randomizedSvd';
import { type KernelPort, localKernelThread, remoteKernelThread, serveKernelCalls } from '../src/wasm/kernelThreads';
import { ResidentKernels } from '../src/wasm/residentKernels';
import { residentMatrixBackend } from '../src/wasm/residentMatrixBackend';
import { bruteCosine, bruteForcePcs, bruteMatmul, maxAbsDiff } from './helpers/independentMath';

/** C^T = B^T A by the definition, in float64: A [m x k], B [m x l], C^T [l x k]. */
function bruteTN(a: Float32Array, m: number, k: number, b: Float32Array, l: number): Float64Array {
  const ct = new Float64Array(l * k);
  for (let c = 0; c < l; c++) for (let j = 0; j < k; j++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += (b[i * l + c] as number) * (a[i * k + j] as number);
    ct[c * k + j] = s;
  }
  return ct;
}

const ports = (): [KernelPort, KernelPort] => {
  const { port1, port2 } = new MessageChannel();
  const end = (p: MessagePort): KernelPort => ({ post: (m) => p.postMessage(m), listen: (h) => p.addEventListener('message', (e) => h(e.data)) });
  port1.start();
  port2.start();
  return [end(port1), end(port2)];
};

describe('the resident WebAssembly kernels (shaders/gemm.wat: gemmTN, rowSumSquares)', () => {
  // k a multiple of 8 and l of 4 (the backend pads to these); m odd, not a multiple of the 64-row chunk.
  for (const [m, k, l, chunk] of [[1, 8, 4, 64], [3, 16, 8, 64], [67, 24, 4, 64], [130, 40, 12, 7], [200, 8, 28, 1]] as const) {
    it(`C^T += B^T A equals the float64 definition at m ${m}, k ${k}, l ${l} (chunks of ${chunk} rows)`, () => {
      const kernels = new ResidentKernels();
      const rng = new SeededRandom(m + k + l);
      const a = rng.gaussianArray(m * k);
      const b = rng.gaussianArray(m * l);
      const c0 = rng.gaussianArray(l * k);
      const [pa, pb, pc] = [kernels.alloc(a.byteLength), kernels.alloc(b.byteLength), kernels.alloc(c0.byteLength)];
      kernels.view(pa, a.length).set(a);
      kernels.view(pb, b.length).set(b);
      kernels.view(pc, c0.length).set(c0);
      kernels.exports.gemmTN(pa, pb, pc, m, k, l, chunk);
      const exact = bruteTN(a, m, k, b, l);
      const got = kernels.view(pc, c0.length);
      for (let i = 0; i < got.length; i++) expect(Math.abs((got[i] as number) - (c0[i] as number) - (exact[i] as number))).toBeLessThan(1e-4 * Math.sqrt(m));
    });
  }

  it('row sums of squares equal the reference (float64) on rows of 4 to 1604 floats', () => {
    const kernels = new ResidentKernels();
    const rng = new SeededRandom(5);
    for (const [m, k] of [[1, 4], [9, 12], [33, 1604]] as const) {
      const a = rng.gaussianArray(m * k);
      const pa = kernels.alloc(a.byteLength);
      const out = kernels.alloc(m * 4);
      kernels.view(pa, a.length).set(a);
      kernels.exports.rowSumSquares(pa, out, m, k);
      const reference = rowSumSquares(rowMatrix(m, k, a));
      const got = kernels.view(out, m);
      for (let i = 0; i < m; i++) expect(Math.abs((got[i] as number) - (reference[i] as number))).toBeLessThan(1e-5 * (reference[i] as number));
      kernels.free(pa);
      kernels.free(out);
    }
  });

  it('reuses freed regions first-fit and grows only for what does not fit', () => {
    const kernels = new ResidentKernels();
    const a = kernels.alloc(100_000);
    const b = kernels.alloc(200_000);
    expect(b).toBeGreaterThanOrEqual(a + 100_000);
    kernels.free(a);
    const before = kernels.memoryBytes;
    expect(kernels.alloc(50_000)).toBe(a); // the gap left by `a`
    expect(kernels.memoryBytes).toBe(before);
    expect(() => kernels.alloc(5 * 2 ** 30)).toThrow(/4 GiB/);
  });

  it('kernel threads over a message channel run on the shared memory in place; a bad call is an error, not a hang', async () => {
    const kernels = new ResidentKernels(true);
    const [mine, theirs] = ports();
    serveKernelCalls(theirs);
    const remote = remoteKernelThread(mine, kernels.module, kernels.memory);
    const backend = residentMatrixBackend(kernels, [remote, localKernelThread(kernels.exports)], { splitMinWork: 0 });
    const rng = new SeededRandom(11);
    const [rows, cols, l] = [97, 45, 5];
    const a = rng.gaussianArray(rows * cols);
    const b = rng.gaussianArray(cols * l);
    const loaded = await backend.load(rowMatrix(rows, cols, a));
    const got = await loaded.multiply(b, l);
    const exact = bruteMatmul(a, rows, cols, b, l, false);
    for (let i = 0; i < got.length; i++) expect(Math.abs((got[i] as number) - (exact[i] as number))).toBeLessThan(1e-4);
    // The caller's array is free once loaded: overwriting it changes nothing.
    a.fill(0);
    const again = await loaded.multiply(b, l);
    expect(again).toEqual(got);
    loaded.release();
    await expect(loaded.multiply(b, l)).rejects.toThrow(/released/);
    await expect(remote.run('gemmNT', [2 ** 31, 0, 0, 1, 1, 1, 0])).rejects.toThrow(/kernel thread/);
  });

  // Columns whose padded row equals them (8), needs padding (13, 1), and whose stride moves off 4 KiB (1024).
  for (const [rows, cols] of [[37, 8], [41, 13], [9, 1], [23, 1024]] as const) {
    it(`a staged ${rows} x ${cols} matrix, filled in place and made resident there, computes what the definitions give; on an unshared memory grown meanwhile too`, async () => {
      const rng = new SeededRandom(rows * cols);
      const a = rng.gaussianArray(rows * cols);
      a.fill(0, 2 * cols, 3 * cols); // a zero row: pcs leaves it out
      const kernels = new ResidentKernels();
      const backend = residentMatrixBackend(kernels);
      const staged = backend.stage!(rows, cols);
      staged.view().set(a);
      // Something else allocates before the load (an exact diff, the keys' statistics): an unshared memory
      // grows and replaces its buffer; the staged values must survive it.
      const other = kernels.alloc(64 * 2 ** 20);
      const loaded = await staged.load();
      kernels.free(other);
      expect(() => staged.view()).toThrow(/already loaded/);
      const l = 3;
      const b = rng.gaussianArray(cols * l);
      const bt = rng.gaussianArray(rows * l);
      const tolerance = (n: number) => 1e-5 * Math.sqrt(n) * 10;
      expect(maxAbsDiff(await loaded.multiply(b, l), bruteMatmul(a, rows, cols, b, l, false))).toBeLessThan(tolerance(cols));
      expect(maxAbsDiff(await loaded.multiplyTransposed(bt, l), bruteMatmul(a, rows, cols, bt, l, true))).toBeLessThan(tolerance(rows));
      const pcs = await loaded.pairwiseCosine();
      const brute = bruteForcePcs(a, rows, cols);
      expect(pcs.zeroRows).toBe(1);
      expect(Math.abs(pcs.pcs - brute.pcs)).toBeLessThan(1e-5);
      const block = await loaded.cosineBlock(0, rows);
      expect(Math.abs((block[1] as number) - bruteCosine(a, cols, 0, 1))).toBeLessThan(1e-5);
      loaded.release();
    });
  }

  it('a staged matrix takes no more memory than a loaded one; discarding or loading it frees its room for the next', async () => {
    const [rows, cols] = [300, 1024];
    const kernels = new ResidentKernels();
    const backend = residentMatrixBackend(kernels);
    const first = backend.stage!(rows, cols);
    const high = kernels.memoryBytes;
    first.discard();
    first.discard(); // twice is harmless
    expect(() => first.view()).toThrow(/discarded/);
    const second = backend.stage!(rows, cols);
    second.view().fill(1);
    (await second.load()).release();
    const loaded = await backend.load(rowMatrix(rows, cols, new Float32Array(rows * cols).fill(2)));
    loaded.release();
    expect(kernels.memoryBytes).toBe(high);
  });

  it('randomized SVD on the split backend finds a planted rank-one spike exactly as on one thread', async () => {
    const rng = new SeededRandom(3);
    const [rows, cols] = [301, 77];
    const u = rng.gaussianArray(rows);
    const v = rng.gaussianArray(cols);
    const a = rng.gaussianArray(rows * cols).map((x, i) => 0.01 * x + (u[Math.floor(i / cols)] as number) * (v[i % cols] as number));
    const shared = new ResidentKernels(true);
    const split = residentMatrixBackend(shared, [0, 1].map(() => localKernelThread(shared.exports)), { splitMinWork: 0 });
    const one = residentMatrixBackend();
    const sv = async (backend: typeof one) => {
      const loaded = await backend.load(rowMatrix(rows, cols, a));
      try {
        return (await randomizedSvd(loaded, { k: 4, oversampling: 6, powerIterations: 2, seed: 1 })).values;
      } finally {
        loaded.release();
      }
    };
    const [s1, s2] = [await sv(split), await sv(one)];
    const norm = (x: Float32Array) => Math.sqrt(x.reduce((s, y) => s + y * y, 0));
    expect(Math.abs((s1[0] as number) - norm(u) * norm(v)) / (norm(u) * norm(v))).toBeLessThan(1e-3);
    for (let i = 0; i < 4; i++) expect(Math.abs((s1[i] as number) - (s2[i] as number))).toBeLessThan(1e-4 * (s2[0] as number));
  });
});
