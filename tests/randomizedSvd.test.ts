import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/core/matrixBackend';
import { rowMatrix } from '../src/core/matrix';
import { column, cpuOperator, randomizedSvd, rowScaledOperator } from '../src/core/randomizedSvd';
import { orthonormalColumns, symmetricEigen } from '../src/core/smallLinearAlgebra';
import { gpuBackend } from '../src/gpu/gpuMatrix';
import { requireOrSkip } from './helpers/gpu';
import { gaussianMatrix, matrixWithSpectrum } from './helpers/independentMath';

const gpu = await requireOrSkip();

function absDot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return Math.abs(s);
}

describe('small linear algebra', () => {
  it('symmetric eigen reproduces A V = V diag(values) on a random symmetric matrix', () => {
    const n = 9;
    const g = gaussianMatrix(n, n, 11);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = (g[i * n + j] as number) + (g[j * n + i] as number);
    const { values, vectors } = symmetricEigen(a, n);
    for (let t = 0; t < n; t++) {
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let j = 0; j < n; j++) av += (a[i * n + j] as number) * (vectors[j * n + t] as number);
        expect(Math.abs(av - (values[t] as number) * (vectors[i * n + t] as number))).toBeLessThan(1e-10);
      }
      if (t > 0) expect(values[t] as number).toBeLessThanOrEqual(values[t - 1] as number);
    }
  });

  it('orthonormalColumns gives Q^T Q = I and spans the input', () => {
    const m = 50;
    const l = 6;
    const y = gaussianMatrix(m, l, 12);
    const q = orthonormalColumns(y, m, l);
    for (let a = 0; a < l; a++) {
      for (let b = 0; b < l; b++) {
        let d = 0;
        for (let i = 0; i < m; i++) d += (q[i * l + a] as number) * (q[i * l + b] as number);
        expect(Math.abs(d - (a === b ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
  });
});

describe('randomized SVD against matrices built with a known spectrum', () => {
  const decaying = Array.from({ length: 40 }, (_, t) => 100 * 0.8 ** t);

  it('recovers the top 16 singular values to 1e-3 relative and the vectors on a decaying spectrum (CPU)', async () => {
    const { data, u, v } = matrixWithSpectrum(300, 120, decaying, 21);
    const svd = await randomizedSvd(cpuOperator(rowMatrix(300, 120, data)), { k: 16, oversampling: 10, powerIterations: 2 });
    for (let t = 0; t < 16; t++) {
      expect(Math.abs((svd.values[t] as number) - (decaying[t] as number)) / (decaying[t] as number)).toBeLessThan(1e-3);
    }
    for (let t = 0; t < 8; t++) {
      expect(absDot(column(svd.u, 300, 16, t), column(u, 300, 40, t))).toBeGreaterThan(0.9999);
      expect(absDot(column(svd.v, 120, 16, t), column(v, 120, 40, t))).toBeGreaterThan(0.9999);
    }
  });

  it('through a row-scaled operator: the spectrum of diag(scale) A, and its products entry by entry', async () => {
    // A's rows are B's times factors of 0.1-10; scaling them back by the factors' inverses gives B's spectrum.
    const [m, n] = [301, 117];
    const { data: b, u } = matrixWithSpectrum(m, n, decaying, 31);
    const factors = Array.from({ length: m }, (_, i) => 10 ** Math.sin(i * 1.7));
    const a = Float32Array.from(b, (x, idx) => x * (factors[Math.floor(idx / n)] as number));
    const scale = Float32Array.from(factors, (f) => 1 / f);
    const svd = await randomizedSvd(rowScaledOperator(cpuOperator(rowMatrix(m, n, a)), scale), { k: 16, oversampling: 10, powerIterations: 2 });
    for (let t = 0; t < 16; t++) expect(Math.abs((svd.values[t] as number) - (decaying[t] as number)) / (decaying[t] as number)).toBeLessThan(1e-3);
    expect(absDot(column(svd.u, m, 16, 0), column(u, m, 40, 0))).toBeGreaterThan(0.9999);
    // Products on odd shapes, a zero scale included, against loops over diag(scale) A.
    const [r, c, l] = [37, 23, 5];
    const x = gaussianMatrix(r, c, 32);
    const sc = Float32Array.from({ length: r }, (_, i) => (i === 4 ? 0 : 0.5 + i / 10));
    const op = rowScaledOperator(cpuOperator(rowMatrix(r, c, x)), sc);
    const right = gaussianMatrix(c, l, 33);
    const left = gaussianMatrix(r, l, 34);
    const ab = await op.multiply(right, l);
    const atb = await op.multiplyTransposed(left, l);
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < l; j++) {
        let want = 0;
        for (let t = 0; t < c; t++) want += (sc[i] as number) * (x[i * c + t] as number) * (right[t * l + j] as number);
        expect(ab[i * l + j]).toBeCloseTo(want, 4);
      }
    }
    for (let t = 0; t < c; t++) {
      for (let j = 0; j < l; j++) {
        let want = 0;
        for (let i = 0; i < r; i++) want += (sc[i] as number) * (x[i * c + t] as number) * (left[i * l + j] as number);
        expect(atb[t * l + j]).toBeCloseTo(want, 4);
      }
    }
  });

  it('finds a planted rank-one component in Gaussian noise', async () => {
    const rows = 400;
    const cols = 90;
    const noise = gaussianMatrix(rows, cols, 22, 0.05);
    const { data: spike, u, v } = matrixWithSpectrum(rows, cols, [30], 23);
    const a = noise.map((x, i) => x + (spike[i] as number));
    const svd = await randomizedSvd(cpuOperator(rowMatrix(rows, cols, a)), { k: 4 });
    expect(svd.values[0] as number).toBeGreaterThan(29.5);
    expect(absDot(column(svd.u, rows, 4, 0), column(u, rows, 1, 0))).toBeGreaterThan(0.999);
    expect(absDot(column(svd.v, cols, 4, 0), column(v, cols, 1, 0))).toBeGreaterThan(0.999);
  });

  it('more power iterations make a flat spectrum accurate', async () => {
    // Singular values falling 3% per step: without power iterations the top values come out several % low.
    const flat = Array.from({ length: 60 }, (_, t) => 10 * 0.97 ** t);
    const { data } = matrixWithSpectrum(200, 100, flat, 24);
    const op = cpuOperator(rowMatrix(200, 100, data));
    const error = async (powerIterations: number) => {
      const svd = await randomizedSvd(op, { k: 8, oversampling: 10, powerIterations });
      return Math.max(...Array.from({ length: 8 }, (_, t) => Math.abs((svd.values[t] as number) - (flat[t] as number)) / (flat[t] as number)));
    };
    const coarse = await error(0);
    const fine = await error(10);
    expect(coarse).toBeGreaterThan(1e-2);
    expect(fine).toBeLessThan(coarse);
    expect(fine).toBeLessThan(1e-3);
  });

  it('an exactly rank-one matrix gives sigma_1 and zeros after it', async () => {
    const { data } = matrixWithSpectrum(50, 20, [7], 25);
    const svd = await randomizedSvd(cpuOperator(rowMatrix(50, 20, data)), { k: 3 });
    expect(svd.values[0] as number).toBeCloseTo(7, 4);
    expect(svd.values[1] as number).toBeLessThan(1e-4);
  });

  it.skipIf(!gpu)('WebGPU (tiled) and CPU give the same top-16 triplets on a 3072 x 768-like shape', async () => {
    const rows = 777;
    const cols = 193;
    const { data } = matrixWithSpectrum(rows, cols, decaying, 26);
    const m = rowMatrix(rows, cols, data);
    const onCpu = await randomizedSvd(await cpuBackend.load(m), { k: 16 });
    const loaded = await gpuBackend(gpu!, { maxRowsPerTile: 250 }).load(m);
    const onGpu = await randomizedSvd(loaded, { k: 16 });
    loaded.release();
    for (let t = 0; t < 16; t++) {
      expect(Math.abs((onGpu.values[t] as number) - (onCpu.values[t] as number)) / (onCpu.values[t] as number)).toBeLessThan(1e-4);
      expect(Math.abs((onGpu.values[t] as number) - (decaying[t] as number)) / (decaying[t] as number)).toBeLessThan(1e-3);
    }
    expect(absDot(column(onGpu.u, rows, 16, 0), column(onCpu.u, rows, 16, 0))).toBeGreaterThan(0.99999);
  });
});

describe('orthonormal columns', () => {
  it('spans the columns and is orthonormal, on well-conditioned, graded and rank-deficient panels', async () => {
    const { orthonormalColumns } = await import('../src/core/smallLinearAlgebra');
    const { SeededRandom } = await import('../src/core/random');
    const rng = new SeededRandom(4);
    const [m, l] = [300, 12];
    const panels: [string, Float64Array][] = [
      ['gaussian', Float64Array.from(rng.gaussianArray(m * l))],
      ['graded (column c scaled by 10^-c)', Float64Array.from(rng.gaussianArray(m * l), (x, i) => x * 10 ** -(i % l))],
      ['rank-deficient (column 5 = column 2)', (() => { const y = Float64Array.from(rng.gaussianArray(m * l)); for (let i = 0; i < m; i++) y[i * l + 5] = y[i * l + 2] as number; return y; })()],
    ];
    for (const [name, y] of panels) {
      const q = orthonormalColumns(y, m, l);
      const dot = (a: number, b: number, x: Float64Array, z: Float64Array) => { let s = 0; for (let i = 0; i < m; i++) s += (x[i * l + a] as number) * (z[i * l + b] as number); return s; };
      for (let a = 0; a < l; a++) for (let b = 0; b < l; b++) {
        const g = dot(a, b, q, q);
        const zero = a === b && Math.abs(g) < 1e-12; // a dependent column becomes zero
        if (!zero) expect(Math.abs(g - (a === b ? 1 : 0)), `${name} Q^T Q at ${a},${b}`).toBeLessThan(1e-9);
      }
      // Every column of Y lies in the span of Q: Y - Q Q^T Y vanishes.
      for (let c = 0; c < l; c++) {
        let res = 0;
        let len = 0;
        for (let i = 0; i < m; i++) {
          let proj = 0;
          for (let a = 0; a < l; a++) proj += (q[i * l + a] as number) * dot(a, c, q, y);
          res += ((y[i * l + c] as number) - proj) ** 2;
          len += (y[i * l + c] as number) ** 2;
        }
        expect(Math.sqrt(res / len), `${name} column ${c} outside the span`).toBeLessThan(1e-8);
      }
    }
  });
});
