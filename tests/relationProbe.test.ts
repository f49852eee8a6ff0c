import { describe, expect, it } from 'vitest';
import { fitGramPca, projectGramPca } from '../src/core/kernelPca';
import { fitLogistic, logisticObjective, predictProbabilities } from '../src/core/logisticRegression';
import { cpuBackend, type MatrixBackend } from '../src/core/matrixBackend';
import { rowMatrix } from '../src/core/matrix';
import { SeededRandom } from '../src/core/random';
import { rankOneCrossGram } from '../src/core/rankOneInnerProducts';
import { symmetricEigen } from '../src/core/smallLinearAlgebra';
import { fitProbe, pcaOfMatrix, pcaOfUpdates, predictUpdates, type ProbeEdit, matrixInnerProducts } from '../src/analysis/relationProbe';
import { parseProbe, PROBE_FORMAT, serializeProbe } from '../src/analysis/relationProbeFile';
import { editsByRelation, relationProbeTable } from '../src/analysis/relationProbeTable';
import { FormatError } from '../src/formats/formatError';
import { gpuBackend } from '../src/gpu/gpuMatrix';
import { requireOrSkip } from './helpers/gpu';

const gpu = await requireOrSkip();
const rng = new SeededRandom(2024);
const gauss = (n: number, scale = 1) => Float32Array.from({ length: n }, () => rng.gaussian() * scale);

/** Edits of `relations` classes: lambda near a class direction, u with a shared positive part (GPT-like). */
function syntheticEdits(rows: number, cols: number, relations: number, perRelation: number, noise: number): ProbeEdit[] {
  const centres = Array.from({ length: relations }, () => gauss(cols));
  const shared = Float32Array.from({ length: rows }, () => 1 + 0.2 * rng.gaussian());
  const out: ProbeEdit[] = [];
  for (let r = 0; r < relations; r++) {
    for (let i = 0; i < perRelation; i++) {
      const u = Float32Array.from(shared, (s) => s + 0.5 * rng.gaussian());
      const c = centres[r] as Float32Array;
      out.push({ relation: `R${r}`, u, lambda: Float32Array.from(c, (x) => x + noise * rng.gaussian()) });
    }
  }
  return out;
}

/** <A, B> of explicitly formed u lambda^T matrices, by loops. */
function bruteFrobenius(a: ProbeEdit, b: ProbeEdit): number {
  let s = 0;
  for (let i = 0; i < a.u.length; i++) for (let j = 0; j < a.lambda.length; j++) s += (a.u[i] as number) * (a.lambda[j] as number) * (b.u[i] as number) * (b.lambda[j] as number);
  return s;
}

describe('rank-one inner products', () => {
  it('equal the Frobenius inner products of the formed matrices (odd sizes)', () => {
    const edits = syntheticEdits(37, 13, 2, 3, 0.5);
    const g = rankOneCrossGram(edits, edits.slice(1, 4));
    edits.forEach((a, i) => edits.slice(1, 4).forEach((b, j) => expect(g[i * 3 + j]).toBeCloseTo(bruteFrobenius(a, b), 6)));
  });
});

describe('PCA from a Gram matrix', () => {
  it('gives the coordinates of PCA on the explicit vectors (covariance eigenvectors), up to sign', () => {
    const n = 9;
    const dim = 6;
    const x = Array.from({ length: n }, () => Array.from({ length: dim }, () => rng.gaussian() * (1 + rng.next() * 3)));
    const gram = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) gram[i * n + j] = x[i]!.reduce((s, v, c) => s + v * x[j]![c]!, 0);
    const pca = fitGramPca(gram, n, 4);
    // Independent route: eigenvectors of the dim x dim covariance of the centred vectors.
    const mean = Array.from({ length: dim }, (_, c) => x.reduce((s, r) => s + r[c]!, 0) / n);
    const cov = new Float64Array(dim * dim);
    for (const r of x) for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) cov[a * dim + b] = cov[a * dim + b]! + ((r[a]! - mean[a]!) * (r[b]! - mean[b]!)) / n;
    const { values, vectors } = symmetricEigen(cov, dim);
    const probe = Array.from({ length: dim }, () => rng.gaussian());
    const z = projectGramPca(pca, x.map((r) => r.reduce((s, v, c) => s + v * probe[c]!, 0)));
    for (let c = 0; c < 4; c++) {
      expect(pca.explainedVariance[c]).toBeCloseTo(values[c]!, 8);
      const expected = probe.reduce((s, v, a) => s + (v - mean[a]!) * vectors[a * dim + c]!, 0);
      expect(Math.abs(z[c]!)).toBeCloseTo(Math.abs(expected), 8);
    }
  });
});

describe('multinomial logistic regression', () => {
  it('has the gradient of its loss (central differences)', () => {
    const n = 12, p = 3, k = 4;
    const x = Float64Array.from({ length: n * p }, () => rng.gaussian());
    const labels = Int32Array.from({ length: n }, () => rng.nextInt(k));
    const f = logisticObjective(x, n, p, labels, k, 0.7);
    const theta = Float64Array.from({ length: (p + 1) * k }, () => rng.gaussian() * 0.3);
    const grad = new Float64Array(theta.length);
    f(theta, grad);
    for (let i = 0; i < theta.length; i++) {
      const up = Float64Array.from(theta);
      const down = Float64Array.from(theta);
      up[i] = up[i]! + 1e-6;
      down[i] = down[i]! - 1e-6;
      const scratch = new Float64Array(theta.length);
      expect(grad[i]).toBeCloseTo((f(up, scratch) - f(down, scratch)) / 2e-6, 5);
    }
  });

  it('two classes: the same fit as Newton iterations on the binary logistic loss', () => {
    // Softmax over two classes with an L2 penalty on both weight columns equals binary logistic regression
    // on w = w1 - w0 with penalty ||w||^2 / (4C) and free bias: solved here by plain Newton steps.
    const n = 40, p = 2, c = 2;
    const x = Float64Array.from({ length: n * p }, () => rng.gaussian());
    const labels = Int32Array.from({ length: n }, (_, i) => (x[i * p]! + 0.5 * x[i * p + 1]! + 0.8 * rng.gaussian() > 0 ? 1 : 0));
    const model = fitLogistic(x, n, p, labels, 2, { c });
    let w = [0, 0, 0];
    for (let it = 0; it < 50; it++) {
      const g = [0, 0, 0];
      const h = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
      for (let i = 0; i < n; i++) {
        const xi = [x[i * p]!, x[i * p + 1]!, 1];
        const s = 1 / (1 + Math.exp(-(w[0]! * xi[0]! + w[1]! * xi[1]! + w[2]!)));
        for (let a = 0; a < 3; a++) {
          g[a]! += (s - labels[i]!) * xi[a]!;
          for (let b = 0; b < 3; b++) h[a]![b]! += s * (1 - s) * xi[a]! * xi[b]!;
        }
      }
      for (let a = 0; a < 2; a++) {
        g[a]! += w[a]! / (2 * c);
        h[a]![a]! += 1 / (2 * c);
      }
      // Solve the 3 x 3 system by Cramer's rule.
      const det = (m: number[][]) => m[0]![0]! * (m[1]![1]! * m[2]![2]! - m[1]![2]! * m[2]![1]!) - m[0]![1]! * (m[1]![0]! * m[2]![2]! - m[1]![2]! * m[2]![0]!) + m[0]![2]! * (m[1]![0]! * m[2]![1]! - m[1]![1]! * m[2]![0]!);
      const d = det(h);
      const step = [0, 1, 2].map((col) => det(h.map((row, r) => row.map((v, j) => (j === col ? g[r]! : v)))) / d);
      w = w.map((v, a) => v - step[a]!);
    }
    const diff = [model.weights[0 * 2 + 1]! - model.weights[0 * 2]!, model.weights[1 * 2 + 1]! - model.weights[1 * 2]!, model.biases[1]! - model.biases[0]!];
    for (let a = 0; a < 3; a++) expect(diff[a]).toBeCloseTo(w[a]!, 4);
    const probs = predictProbabilities(model, [x[0]!, x[1]!]);
    expect(probs[0]! + probs[1]!).toBeCloseTo(1, 12);
  });
});

const BACKENDS: { name: string; backend: MatrixBackend | null }[] = [
  { name: 'cpu', backend: cpuBackend },
  { name: 'webgpu (tiles of 7 rows)', backend: gpu ? gpuBackend(gpu, { maxRowsPerTile: 7 }) : null },
];

describe('relation probe', () => {
  const rows = 37;
  const cols = 13;
  const edits = syntheticEdits(rows, cols, 3, 24, 0.6);
  const train = edits.filter((_, i) => i % 24 < 16);
  const test = edits.filter((_, i) => i % 24 >= 16);
  const probe = fitProbe(train, ['R0', 'R1', 'R2'], { components: 10, maxFitMatrices: 30, c: 1 });

  it('separates relations whose updates differ (synthetic, well above chance)', () => {
    const predicted = predictUpdates(probe, test);
    const correct = predicted.filter((p, i) => `R${p}` === test[i]!.relation).length;
    expect(correct / test.length).toBeGreaterThan(0.9);
  });

  for (const { name, backend } of BACKENDS) {
    it.skipIf(!backend)(`reads a full matrix W + u lambda^T like its factors (${name})`, async () => {
      const w = gauss(rows * cols);
      const baseLoaded = await backend!.load(rowMatrix(rows, cols, w));
      const base = await matrixInnerProducts(baseLoaded, probe.fit);
      baseLoaded.release();
      for (const e of test.slice(0, 4)) {
        const m = Float32Array.from(w, (v, idx) => v + e.u[Math.floor(idx / cols)]! * e.lambda[idx % cols]!);
        const loaded = await backend!.load(rowMatrix(rows, cols, m));
        const viaMatrix = await pcaOfMatrix(probe, loaded, base);
        loaded.release();
        const viaFactors = pcaOfUpdates(probe.pca, probe.fit, [e])[0]!;
        const scale = Math.max(...viaFactors.map(Math.abs));
        viaFactors.forEach((v, c) => expect(Math.abs(viaMatrix[c]! - v)).toBeLessThan(2e-3 * scale));
      }
    });
  }

  it('Tab. 1 over synthetic relations: accuracy per class count, above its random baseline', () => {
    const groups = editsByRelation(syntheticEdits(11, 5, 4, 12, 0.4), 12);
    const rowsOut = relationProbeTable(groups, { classCounts: [2, 4, 9], repeats: 3, trainPerRelation: 6, testPerRelation: 6, seed: 3, settings: { components: 8, maxFitMatrices: 20, c: 1 } });
    expect(rowsOut.map((r) => r.classes)).toEqual([2, 4]);
    for (const r of rowsOut) {
      expect(r.accuracies).toHaveLength(3);
      expect(r.mean).toBeGreaterThan(r.randomBaseline + 20);
    }
  });

  it('probe files round-trip, and hostile ones are refused with the file named', () => {
    const file = { format: PROBE_FORMAT as typeof PROBE_FORMAT, version: 1 as const, layer: 2, rows, cols, model: probe, baseInnerProducts: new Float64Array(probe.fit.length), templates: { R0: ['{} is'] }, subject: 'Ab Cd', trainedOn: { bundle: 'b', editsPerRelation: 16 } };
    const text = serializeProbe(file);
    const back = parseProbe('p.json', text);
    expect(predictUpdates(back.model, test)).toEqual(predictUpdates(probe, test));
    const bad: [string, string][] = [
      ['not json', '{'],
      ['wrong format', JSON.stringify({ format: 'x' })],
      ['short u', text.replace(/"u":\[[^\]]*\]/, '"u":[1,2]')],
      ['NaN-like entry', text.replace(/"biases":\[[^,]*/, '"biases":["x"')],
      ['class count', text.replace('"classes":3', '"classes":4')],
    ];
    for (const [why, body] of bad) {
      expect(() => parseProbe('p.json', body), why).toThrow(FormatError);
      expect(() => parseProbe('p.json', body), why).toThrow(/p\.json/);
    }
  });
});
