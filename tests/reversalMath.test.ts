import { describe, expect, it } from 'vitest';
import { bottomRankSeries, dropTopComponents } from '../src/core/bottomRank';
import { cpuBackend } from '../src/core/matrixBackend';
import { rowMatrix } from '../src/core/matrix';
import { cpuOperator, randomizedSvd } from '../src/core/randomizedSvd';
import { rankOneSimilarity, rankOneSimilarityOfFactors } from '../src/core/rankOneSimilarity';
import { SeededRandom } from '../src/core/random';
import { gpuBackend } from '../src/gpu/gpuMatrix';
import { requireOrSkip } from './helpers/gpu';
import { bruteCosine, gaussianMatrix, matrixWithSpectrum } from './helpers/independentMath';

const gpu = await requireOrSkip();

describe('randomized SVD with a tolerance: power iterations until the top-k triplets are accurate', () => {
  // Flat spectra: sigma falls 1% per step, so two power iterations leave the top 16 values several % off.
  const cases: [string, number, number, number[]][] = [
    ['1% steps, 301 x 97', 301, 97, Array.from({ length: 97 }, (_, t) => 5 * 0.99 ** t)],
    ['harmonic 1/(1 + t/50), 256 x 130', 256, 130, Array.from({ length: 130 }, (_, t) => 1 / (1 + t / 50))],
    ['plateau of 20 near-equal values then a drop, 180 x 75', 180, 75, Array.from({ length: 75 }, (_, t) => (t < 20 ? 3 - 0.002 * t : 1 * 0.98 ** t))],
  ];
  for (const [label, rows, cols, spectrum] of cases) {
    it(`top 16 singular values within 1e-3 relative and W~(k) within 1e-3 of the exact one (${label})`, async () => {
      const { data, u, v } = matrixWithSpectrum(rows, cols, spectrum, 31);
      const op = cpuOperator(rowMatrix(rows, cols, data));
      const loose = await randomizedSvd(op, { k: 16, powerIterations: 2 });
      const looseError = Math.max(...spectrum.slice(0, 16).map((s, t) => Math.abs((loose.values[t] as number) - s) / s));
      const svd = await randomizedSvd(op, { k: 16, powerIterations: 2, tolerance: 1e-3 });
      expect(svd.relativeResidual!).toBeLessThanOrEqual(1e-3);
      // Where two iterations were not enough, more ran; the plateau's gap after 20 values makes two enough.
      if (!label.startsWith('plateau')) {
        expect(looseError).toBeGreaterThan(1e-3);
        expect(svd.powerIterations).toBeGreaterThan(2);
      }
      const error = Math.max(...spectrum.slice(0, 16).map((s, t) => Math.abs((svd.values[t] as number) - s) / s));
      expect(error).toBeLessThan(1e-3);
      expect(error).toBeLessThanOrEqual(looseError);
      // W~(16) against the exact W minus its top 16 components, built from the known factors.
      const exact = Float64Array.from(data);
      const r = spectrum.length;
      for (let t = 0; t < 16; t++) for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) exact[i * cols + j] = (exact[i * cols + j] as number) - (spectrum[t] as number) * (u[i * r + t] as number) * (v[j * r + t] as number);
      const approx = dropTopComponents(rowMatrix(rows, cols, data), svd, 16);
      let diff = 0;
      let norm = 0;
      for (let i = 0; i < exact.length; i++) {
        diff += ((approx.data[i] as number) - (exact[i] as number)) ** 2;
        norm += (data[i] as number) ** 2;
      }
      // The plateau case: values within 0.2% of each other make single vectors ill-defined but not the sum.
      expect(Math.sqrt(diff / norm)).toBeLessThan(label.startsWith('plateau') ? 2e-2 : 1e-3);
    });
  }

  it.skipIf(!gpu)('the GPU operator (tiles not dividing the rows) meets the same tolerance', async () => {
    const spectrum = Array.from({ length: 97 }, (_, t) => 5 * 0.99 ** t);
    const { data } = matrixWithSpectrum(301, 97, spectrum, 32);
    const loaded = await gpuBackend(gpu!, { maxRowsPerTile: 100 }).load(rowMatrix(301, 97, data));
    const svd = await randomizedSvd(loaded, { k: 16, tolerance: 1e-3 });
    loaded.release();
    expect(svd.relativeResidual!).toBeLessThanOrEqual(1e-3);
    for (let t = 0; t < 16; t++) expect(Math.abs((svd.values[t] as number) - (spectrum[t] as number)) / (spectrum[t] as number)).toBeLessThan(1e-3);
    const onCpu = await randomizedSvd(await cpuBackend.load(rowMatrix(301, 97, data)), { k: 16, tolerance: 1e-3 });
    for (let t = 0; t < 16; t++) expect(Math.abs((svd.values[t] as number) - (onCpu.values[t] as number))).toBeLessThan(1e-3 * (spectrum[t] as number));
  });
});

describe('bottom-rank approximations W~(r, k)', () => {
  it('each step equals W minus the first k rank-one pieces, summed by a brute-force loop', async () => {
    const rows = 37;
    const cols = 11;
    const data = gaussianMatrix(rows, cols, 41);
    const svd = await randomizedSvd(cpuOperator(rowMatrix(rows, cols, data)), { k: 6, oversampling: 5, powerIterations: 6 });
    let seen = 0;
    for (const { k, matrix } of bottomRankSeries(rowMatrix(rows, cols, data), svd, 6)) {
      expect(k).toBe(seen++);
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          let want = data[i * cols + j] as number;
          for (let t = 0; t < k; t++) want -= (svd.values[t] as number) * (svd.u[i * 6 + t] as number) * (svd.v[j * 6 + t] as number);
          expect(Math.abs((matrix.data[i * cols + j] as number) - want)).toBeLessThan(1e-5);
        }
      }
    }
    expect(seen).toBe(7);
    // The input is untouched (the series works on one copy).
    expect(Array.from(data)).toEqual(Array.from(gaussianMatrix(rows, cols, 41)));
  });

  it('dropping the top piece of W + u lambda^T (a dominant planted edit) returns W to within the edit-free error', async () => {
    const rows = 120;
    const cols = 40;
    const w = gaussianMatrix(rows, cols, 42, 0.1);
    const rng = new SeededRandom(43);
    const u = rng.gaussianArray(rows);
    const lambda = rng.gaussianArray(cols).map((x) => 3 * x);
    const edited = w.map((x, idx) => x + (u[Math.floor(idx / cols)] as number) * (lambda[idx % cols] as number));
    const svd = await randomizedSvd(cpuOperator(rowMatrix(rows, cols, edited)), { k: 4, tolerance: 1e-4 });
    const repaired = dropTopComponents(rowMatrix(rows, cols, edited), svd, 1);
    // Relative to the edit's size, what remains of it is small (its overlap with W's own top direction).
    let err = 0;
    let edit = 0;
    for (let i = 0; i < w.length; i++) {
      err += ((repaired.data[i] as number) - (w[i] as number)) ** 2;
      edit += ((edited[i] as number) - (w[i] as number)) ** 2;
    }
    expect(Math.sqrt(err / edit)).toBeLessThan(0.1);
  });
});

describe('rank-one similarity (paper Sec. 7.2)', () => {
  it('equals the maximum |cosine| over every pair of rows of dW and of sigma_t u_t v_t^T (brute force)', async () => {
    const rows = 23;
    const cols = 9;
    const edited = gaussianMatrix(rows, cols, 51);
    const svd = await randomizedSvd(cpuOperator(rowMatrix(rows, cols, edited)), { k: 5, oversampling: 4, powerIterations: 8 });
    const dw = gaussianMatrix(rows, cols, 52);
    dw.fill(0, 3 * cols, 4 * cols); // a zero row has no direction and must not count
    const got = rankOneSimilarity(rowMatrix(rows, cols, dw), svd);
    for (let t = 0; t < 5; t++) {
      const piece = new Float32Array(rows * cols);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) piece[i * cols + j] = (svd.values[t] as number) * (svd.u[i * 5 + t] as number) * (svd.v[j * 5 + t] as number);
      let best = 0;
      for (let a = 0; a < rows; a++) {
        for (let b = 0; b < rows; b++) {
          const both = new Float32Array(2 * cols);
          both.set(dw.subarray(a * cols, (a + 1) * cols), 0);
          both.set(piece.subarray(b * cols, (b + 1) * cols), cols);
          const c = Math.abs(bruteCosine(both, cols, 0, 1));
          if (Number.isFinite(c)) best = Math.max(best, c);
        }
      }
      expect(Math.abs((got[t] as number) - best)).toBeLessThan(1e-5);
    }
  });

  it('from the factors (u, lambda) equals the full-matrix computation, and is 1 for the piece that is the edit', async () => {
    const rows = 64;
    const cols = 16;
    const rng = new SeededRandom(53);
    const u = rng.gaussianArray(rows);
    const lambda = rng.gaussianArray(cols);
    const w = gaussianMatrix(rows, cols, 54, 0.01);
    const dw = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) dw[i * cols + j] = (u[i] as number) * (lambda[j] as number);
    const edited = w.map((x, i) => x + (dw[i] as number));
    const svd = await randomizedSvd(cpuOperator(rowMatrix(rows, cols, edited)), { k: 4, tolerance: 1e-5 });
    const full = rankOneSimilarity(rowMatrix(rows, cols, dw), svd);
    const factors = rankOneSimilarityOfFactors(u, lambda, svd);
    for (let t = 0; t < 4; t++) expect(Math.abs((full[t] as number) - (factors[t] as number))).toBeLessThan(1e-5);
    expect(factors[0] as number).toBeGreaterThan(0.999);
    expect(factors[1] as number).toBeLessThan(0.1);
  });
});
