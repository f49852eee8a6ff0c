import { describe, expect, it } from 'vitest';
import { centredCovariance, meanAbsCorrelation, participationRatio, topEigenvalueShare } from '../src/core/covarianceStats';
import { SeededRandom } from '../src/core/random';
import { Tensor } from '../src/edit/engine/tensor';
import { SMOKE_FORGE } from '../src/edit/forgeConfig';
import { gpt2Forward, initGpt2 } from '../src/edit/gpt2Model';
import { keyDiagnostics } from '../src/edit/keyDiagnostics';
import { keyStatistics } from '../src/edit/keyStatistics';
import { cholesky } from '../src/core/cholesky';
import { forgeWorld } from '../src/edit/node/forgeWorld';
import { encodeTexts } from '../src/edit/trainingData';

const rng = new SeededRandom(21);

/** A random orthogonal n x n matrix (Gram-Schmidt of Gaussian columns), row-major. */
function orthogonal(n: number): Float64Array {
  const q = Float64Array.from(rng.gaussianArray(n * n));
  for (let j = 0; j < n; j++) {
    for (let p = 0; p < j; p++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += (q[i * n + j] as number) * (q[i * n + p] as number);
      for (let i = 0; i < n; i++) q[i * n + j] = (q[i * n + j] as number) - dot * (q[i * n + p] as number);
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += (q[i * n + j] as number) ** 2;
    for (let i = 0; i < n; i++) q[i * n + j] = (q[i * n + j] as number) / Math.sqrt(norm);
  }
  return q;
}

/** Q diag(lambda) Q^T. */
function withEigenvalues(lambda: readonly number[]): Float64Array {
  const n = lambda.length;
  const q = orthogonal(n);
  const s = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) s[i * n + j] = (s[i * n + j] as number) + (q[i * n + k] as number) * (lambda[k] as number) * (q[j * n + k] as number);
  return s;
}

/** Solves A x = b by Gaussian elimination with partial pivoting (independent of the Cholesky path). */
function gaussSolve(a: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const m = Float64Array.from(a);
  const x = Float64Array.from(b as ArrayLike<number>);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c] as number) > Math.abs(m[p * n + c] as number)) p = r;
    for (let k = 0; k < n; k++) [m[c * n + k], m[p * n + k]] = [m[p * n + k] as number, m[c * n + k] as number];
    [x[c], x[p]] = [x[p] as number, x[c] as number];
    for (let r = c + 1; r < n; r++) {
      const f = (m[r * n + c] as number) / (m[c * n + c] as number);
      for (let k = c; k < n; k++) m[r * n + k] = (m[r * n + k] as number) - f * (m[c * n + k] as number);
      x[r] = (x[r] as number) - f * (x[c] as number);
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r] as number;
    for (let k = r + 1; k < n; k++) s -= (m[r * n + k] as number) * (x[k] as number);
    x[r] = s / (m[r * n + r] as number);
  }
  return x;
}

const share = (v: ArrayLike<number>) => {
  let pos = 0;
  let neg = 0;
  for (let i = 0; i < v.length; i++) if ((v[i] as number) > 0) pos++;
  else if ((v[i] as number) < 0) neg++;
  return Math.max(pos, neg) / (pos + neg);
};

describe('covariance statistics', () => {
  it('participation ratio and top-k share equal the formulas on a matrix with known eigenvalues', async () => {
    const lambda = Array.from({ length: 40 }, (_, i) => 10 / (1 + i) ** 1.3);
    const s = withEigenvalues(lambda);
    const sum = lambda.reduce((a, b) => a + b, 0);
    const sumSq = lambda.reduce((a, b) => a + b * b, 0);
    expect(participationRatio(s, 40)).toBeCloseTo((sum * sum) / sumSq, 8);
    expect(await topEigenvalueShare(s, 40, 10)).toBeCloseTo(lambda.slice(0, 10).reduce((a, b) => a + b, 0) / sum, 4);
    // Isotropic: every direction counts.
    expect(participationRatio(withEigenvalues(Array(12).fill(2)), 12)).toBeCloseTo(12, 8);
  });

  it('mean |correlation| of D R D is the mean |R_ij|, whatever the scales D', () => {
    const n = 9;
    const rho = 0.3;
    const scales = Array.from({ length: n }, () => 0.1 + Math.abs(rng.gaussian()));
    const s = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s[i * n + j] = (scales[i] as number) * (scales[j] as number) * (i === j ? 1 : (i + j) % 2 ? rho : -rho);
    expect(meanAbsCorrelation(s, n)).toBeCloseTo(rho, 12);
  });

  it('centred covariance is the moment minus the outer product of the mean', () => {
    const mean = [1, -2, 0.5];
    const moment = Float64Array.from([4, 1, 2, 1, 9, 0, 2, 0, 3]);
    expect(Array.from(centredCovariance(moment, mean))).toEqual([3, 3, 1.5, 3, 5, 1, 1.5, 1, 2.75]);
  });
});

describe('key statistics and diagnostics', () => {
  const world = forgeWorld(SMOKE_FORGE);
  const c = world.config;
  const params = initGpt2(c, 3);
  const sequences = encodeTexts(world.vocab, world.kb.filler.slice(0, 12));

  it('mean, second moment and pre-activation shares equal a brute-force pass, sequence by sequence', () => {
    const layer = 1;
    const stats = keyStatistics(c, params, layer, sequences);
    const n = c.n_inner;
    const moment = new Float64Array(n * n);
    const mean = new Float64Array(n);
    let tokens = 0;
    let below = 0;
    let linear = 0;
    let above = 0;
    for (const s of sequences) {
      const capture: { layer: number; keys?: Tensor; preActivations?: Tensor } = { layer };
      gpt2Forward(null, c, params, s, 1, s.length, { captureKeys: capture });
      const k = (capture.keys as Tensor).data;
      for (let t = 0; t < s.length; t++) {
        for (let i = 0; i < n; i++) {
          mean[i] = (mean[i] as number) + (k[t * n + i] as number);
          for (let j = 0; j < n; j++) moment[i * n + j] = (moment[i * n + j] as number) + (k[t * n + i] as number) * (k[t * n + j] as number);
        }
      }
      for (const z of (capture.preActivations as Tensor).data) {
        if (z < -2) below++;
        if (z > 1) above++;
        if (Math.abs(z) < 1) linear++;
      }
      tokens += s.length;
    }
    expect(stats.tokens).toBe(tokens);
    for (let i = 0; i < n; i++) expect(stats.mean[i]).toBeCloseTo((mean[i] as number) / tokens, 6);
    for (let i = 0; i < n * n; i += 37) expect(stats.moment[i]).toBeCloseTo((moment[i] as number) / tokens, 5);
    expect(stats.preActivation).toEqual({ belowMinus2: below / (tokens * n), absBelow1: linear / (tokens * n), above1: above / (tokens * n) });
  });

  it('sign shares of k*, k* - mean, diag(C)^-1 k* and C^-1 k*, base pcs and row ratio against independent maths', async () => {
    const n = 24;
    const d = 5;
    // A covariance with strong shared directions (C^-1 mixes neurons) plus a mean.
    const lambda = Array.from({ length: n }, (_, i) => (i < 3 ? 20 : 0.05 + 0.01 * i));
    const mean = Float64Array.from({ length: n }, () => 0.3 * rng.gaussian());
    const s = withEigenvalues(lambda);
    const moment = Float64Array.from(s, (x, idx) => x + (mean[Math.floor(idx / n)] as number) * (mean[idx % n] as number));
    const kStars = Array.from({ length: 6 }, () => Float64Array.from({ length: n }, (_, i) => (mean[i] as number) - 0.5 + rng.gaussian() * 0.2));
    const weight = rng.gaussianArray(n * d);
    const u = rng.gaussianArray(n);
    const lam = rng.gaussianArray(d);
    const out = await keyDiagnostics({
      layer: 2,
      stats: { tokens: 100, moment, mean, preActivation: { belowMinus2: 0.1, absBelow1: 0.5, above1: 0.2 } },
      covarianceFactor: cholesky(moment, n) as Float64Array,
      kStars,
      weight,
      updates: [{ u, lambda: lam }],
    });
    const avg = (f: (k: Float64Array) => ArrayLike<number>) => kStars.reduce((a, k) => a + share(f(k)), 0) / kStars.length;
    expect(out.signShare.k).toBeCloseTo(avg((k) => k), 12);
    expect(out.signShare.kMinusMean).toBeCloseTo(avg((k) => k.map((x, i) => x - (mean[i] as number))), 12);
    expect(out.signShare.diagCInvK).toBeCloseTo(avg((k) => k.map((x, i) => x / (moment[i * n + i] as number))), 12);
    expect(out.signShare.cInvK).toBeCloseTo(avg((k) => gaussSolve(moment, n, k)), 12);
    expect(out.participationRatio).toBeCloseTo(lambda.reduce((a, b) => a + b, 0) ** 2 / lambda.reduce((a, b) => a + b * b, 0), 6);
    // k*'s distance: (k* - mean)^T (S + ridge)^-1 (k* - mean) / n by elimination, median over the six.
    const meanDiag = lambda.reduce((a, b) => a + b, 0) / n;
    const ridged = Float64Array.from(s, (x, idx) => (idx % (n + 1) === 0 ? x + 1e-6 * meanDiag : x));
    const distances = kStars
      .map((k) => {
        const delta = k.map((x, i) => x - (mean[i] as number));
        const y = gaussSolve(ridged, n, delta);
        return delta.reduce((a, x, i) => a + x * (y[i] as number), 0) / n;
      })
      .sort((a, b) => a - b);
    expect(out.kStarDistance).toBeCloseTo(((distances[2] as number) + (distances[3] as number)) / 2, 6);
    // Brute-force pcs over all ordered pairs of rows, and the row ratio by its definition.
    let pcs = 0;
    const row = (i: number) => weight.subarray(i * d, (i + 1) * d);
    const dot = (x: ArrayLike<number>, y: ArrayLike<number>) => Array.from({ length: d }, (_, j) => (x[j] as number) * (y[j] as number)).reduce((a, b) => a + b);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) pcs += dot(row(i), row(j)) / Math.sqrt(dot(row(i), row(i)) * dot(row(j), row(j)));
    expect(out.basePcs).toBeCloseTo(pcs / (n * n - n), 6);
    const ratios = Array.from({ length: n }, (_, i) => (Math.abs(u[i] as number) * Math.sqrt(dot(lam, lam))) / Math.sqrt(dot(row(i), row(i)))).sort((a, b) => a - b);
    expect(out.rowRatio).toBeCloseTo(((ratios[11] as number) + (ratios[12] as number)) / 2, 6);
  });
});

describe("k*'s distance from C's text", () => {
  it("the text's own keys are 1 on average (the trace of S^-1 S over d_ff); a key 5 spreads from the mean along one whitened direction is 25 / d_ff", async () => {
    const n = 7;
    const count = 60;
    const samples = Array.from({ length: count }, () => Float64Array.from({ length: n }, (_, i) => 0.2 * i + (1 + 0.3 * i) * rng.gaussian()));
    const mean = new Float64Array(n);
    const moment = new Float64Array(n * n);
    for (const x of samples) for (let i = 0; i < n; i++) {
      mean[i] = (mean[i] as number) + (x[i] as number) / count;
      for (let j = 0; j < n; j++) moment[i * n + j] = (moment[i * n + j] as number) + ((x[i] as number) * (x[j] as number)) / count;
    }
    const stats = { tokens: count, moment, mean, preActivation: { belowMinus2: 0, absBelow1: 0, above1: 0 } };
    const run = async (k: Float64Array) =>
      (await keyDiagnostics({ layer: 0, stats, covarianceFactor: cholesky(moment, n) as Float64Array, kStars: [k], weight: Float32Array.from({ length: n * 2 }, (_, i) => 1 + i) })).kStarDistance;
    let sum = 0;
    for (const x of samples) sum += await run(x);
    expect(sum / count).toBeCloseTo(1, 4);
    // A key at mean + 5 L e: (5 L e)^T (L L^T)^-1 (5 L e) = 25 ||e||^2, e a unit vector; L = S's Cholesky factor.
    const centred = Float64Array.from(moment, (x, idx) => x - (mean[Math.floor(idx / n)] as number) * (mean[idx % n] as number));
    const l = cholesky(centred, n) as Float64Array;
    const e = Float64Array.from({ length: n }, () => 1 / Math.sqrt(n));
    const far = Float64Array.from({ length: n }, (_, i) => (mean[i] as number) + 5 * Array.from({ length: n }, (_, j) => (l[i * n + j] as number) * (e[j] as number)).reduce((a, b) => a + b));
    expect(await run(far)).toBeCloseTo(25 / n, 3);
  });
});

describe('where C^-1 k* lives', () => {
  it('with C diagonal, each neuron is its own eigen-direction: the share in the lower half is computed per neuron', async () => {
    const n = 6;
    const diag = [6, 5, 4, 3, 2, 1];
    const moment = new Float64Array(n * n);
    diag.forEach((d, i) => (moment[i * n + i] = d));
    const k = Float64Array.from([1, 1, 1, 1, 1, 1]);
    const out = await keyDiagnostics({
      layer: 0,
      stats: { tokens: 10, moment, mean: new Float64Array(n), preActivation: { belowMinus2: 0, absBelow1: 0, above1: 0 } },
      covarianceFactor: cholesky(moment, n) as Float64Array,
      kStars: [k],
      weight: Float32Array.from({ length: n * 2 }, (_, i) => 1 + i),
    });
    // u = C^-1 k = 1/d_i: the lower half (d = 1, 2, 3) holds (1 + 1/4 + 1/9) of sum 1/d^2.
    const total = diag.reduce((a, d) => a + 1 / d ** 2, 0);
    expect(out.eigen!.lowerHalfShare).toBeCloseTo((1 + 1 / 4 + 1 / 9) / total, 10);
    expect(out.eigen!.lowerEigenvectorSignShare).toBe(1);
  });
});

describe('inverseSquareRoot (the whitened spectrum of the detection experiment)', () => {
  it('X (M + floor I) X = I and X is symmetric, on a random ill-conditioned SPD matrix', async () => {
    const { inverseSquareRoot } = await import('../src/core/covarianceStats');
    const { SeededRandom } = await import('../src/core/random');
    const n = 23;
    const rng = new SeededRandom(4);
    // M = A A^T with A n x 5 plus a tiny ridge: rank 5 in effect, condition number ~1e8.
    const a = rng.gaussianArray(n * 5);
    const m = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let t = 0; t < 5; t++) m[i * n + j] = (m[i * n + j] as number) + (a[i * 5 + t] as number) * (a[j * 5 + t] as number);
    for (let i = 0; i < n; i++) m[i * n + i] = (m[i * n + i] as number) + 1e-7;
    let maxEig = 0;
    // The largest eigenvalue by power iteration (independent of the Jacobi solver under test).
    let v = Float64Array.from({ length: n }, () => 1);
    for (let it = 0; it < 500; it++) {
      const w = new Float64Array(n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) w[i] = (w[i] as number) + (m[i * n + j] as number) * (v[j] as number);
      maxEig = Math.hypot(...w);
      v = w.map((x) => x / maxEig);
    }
    const relativeFloor = 1e-3;
    const x = inverseSquareRoot(m, n, relativeFloor);
    const shifted = Float64Array.from(m, (val, idx) => val + (idx % (n + 1) === 0 ? relativeFloor * maxEig : 0));
    const prod = (p: Float64Array, q: Float64Array) => {
      const out = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let t = 0; t < n; t++) out[i * n + j] = (out[i * n + j] as number) + (p[i * n + t] as number) * (q[t * n + j] as number);
      return out;
    };
    const identity = prod(prod(x, shifted), x);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(identity[i * n + j]).toBeCloseTo(i === j ? 1 : 0, 8);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(x[i * n + j]).toBe(x[j * n + i]);
  });
});
