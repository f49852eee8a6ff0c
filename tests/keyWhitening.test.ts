import { describe, expect, it } from 'vitest';
import { scanModel } from '../src/analysis/scanModel';
import { choleskySolve, cholesky } from '../src/core/cholesky';
import { judgeLayers, type LayerSignals, VERDICT_RULE } from '../src/core/editVerdict';
import { KEY_WHITENING, keyCorrelation, keyMoment, keyWhitenedSpectrum, keyWhitener, type MlpKeyModel, sampleKeys, whitenedGaps } from '../src/core/keyWhitening';
import { cpuBackend } from '../src/core/matrixBackend';
import { SeededRandom } from '../src/core/random';
import { symmetricEigen } from '../src/core/smallLinearAlgebra';
import { MemorySource, resolverFromSources } from '../src/formats/byteSource';
import { openCheckpoint } from '../src/formats/checkpoint';
import { type TensorToWrite, writeSafetensors } from '../src/formats/safetensorsWriter';

/** A random MLP input side: LayerNorm + GELU (GPT) or RMSNorm + SwiGLU (Llama). */
function randomKeyModel(dFf: number, dModel: number, seed: number, swiglu = false, inputScale = 1): MlpKeyModel {
  const rng = new SeededRandom(seed);
  const scale = inputScale / Math.sqrt(dModel);
  return {
    dModel,
    dFf,
    normWeight: Float32Array.from({ length: dModel }, () => 0.8 + 0.4 * rng.next()),
    normBias: swiglu ? null : rng.gaussianArray(dModel).map((x) => 0.1 * x),
    input: rng.gaussianArray(dFf * dModel).map((x) => x * scale),
    inputBias: swiglu ? null : rng.gaussianArray(dFf).map((x) => inputScale * (0.3 * x - 0.5)),
    gate: swiglu ? rng.gaussianArray(dFf * dModel).map((x) => x * scale) : null,
  };
}

/** One key by the definition, in float64 loops, from the same normal draws as sampleKeys (row-major x). */
function bruteKey(model: MlpKeyModel, x: Float64Array, i: number): number {
  let z = model.inputBias ? (model.inputBias[i] as number) : 0;
  for (let j = 0; j < model.dModel; j++) z += (model.input[i * model.dModel + j] as number) * (x[j] as number);
  if (!model.gate) return 0.5 * z * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (z + 0.044715 * z ** 3)));
  let g = 0;
  for (let j = 0; j < model.dModel; j++) g += (model.gate[i * model.dModel + j] as number) * (x[j] as number);
  return (g / (1 + Math.exp(-g))) * z;
}

function normalInputs(model: MlpKeyModel, samples: number): Float64Array[] {
  const rng = new SeededRandom(KEY_WHITENING.seed);
  return Array.from({ length: samples }, () => Float64Array.from({ length: model.dModel }, (_, j) => rng.gaussian() * (model.normWeight[j] as number) + (model.normBias?.[j] ?? 0)));
}

/** Singular values of (corr)^-1/2 Wn by eigen-decompositions (no Cholesky, no randomized SVD): the independent route. */
function eigenRouteSpectrum(correlation: Float64Array, w: Float32Array, rows: number, cols: number): number[] {
  const { values, vectors } = symmetricEigen(correlation, rows);
  const inv = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) for (let j = 0; j < rows; j++) {
    let s = 0;
    for (let t = 0; t < rows; t++) s += (vectors[i * rows + t] as number) * (vectors[j * rows + t] as number) / Math.sqrt(values[t] as number);
    inv[i * rows + j] = s;
  }
  const wn = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    let n = 0;
    for (let c = 0; c < cols; c++) n += (w[i * cols + c] as number) ** 2;
    for (let c = 0; c < cols; c++) wn[i * cols + c] = (w[i * cols + c] as number) / Math.sqrt(n);
  }
  const m = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let c = 0; c < cols; c++) {
    let s = 0;
    for (let t = 0; t < rows; t++) s += (inv[i * rows + t] as number) * (wn[t * cols + c] as number);
    m[i * cols + c] = s;
  }
  const gram = new Float64Array(cols * cols);
  for (let a = 0; a < cols; a++) for (let b = 0; b < cols; b++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += (m[i * cols + a] as number) * (m[i * cols + b] as number);
    gram[a * cols + b] = s;
  }
  return Array.from(symmetricEigen(gram, cols).values, (v) => Math.sqrt(Math.max(0, v)));
}

/**
 * A trained-like output matrix: rows in the span of the layer's keys (a trained W's gradient is a sum of keys
 * times output errors), W = K^T G / samples with G Gaussian [samples, d_model].
 */
function keySpanMatrix(keys: Float32Array, samples: number, dFf: number, dModel: number, seed: number): Float32Array {
  const g = new SeededRandom(seed).gaussianArray(samples * dModel);
  const w = new Float32Array(dFf * dModel);
  for (let s = 0; s < samples; s++) for (let i = 0; i < dFf; i++) {
    const k = keys[s * dFf + i] as number;
    for (let c = 0; c < dModel; c++) w[i * dModel + c] = (w[i * dModel + c] as number) + (k * (g[s * dModel + c] as number)) / samples;
  }
  return w;
}

/** ROME's update with the mom2 adjustment: u = C^-1 k* (C the keys' uncentred second moment, ridge for rank), lambda scaled so ||u lambda^T||_F = `size`. */
function romeUpdate(model: MlpKeyModel, size: number, seed: number): { u: Float64Array; lambda: Float64Array } {
  const samples = 4096;
  const keys = sampleKeys(model, samples, 1234);
  const n = model.dFf;
  const c = new Float64Array(n * n);
  for (let s = 0; s < samples; s++) for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) c[i * n + j] = (c[i * n + j] as number) + (keys[s * n + i] as number) * (keys[s * n + j] as number) / samples;
  let trace = 0;
  for (let i = 0; i < n; i++) trace += c[i * n + i] as number;
  for (let i = 0; i < n; i++) c[i * n + i] = (c[i * n + i] as number) + (1e-3 * trace) / n;
  const kStar = sampleKeys(model, 1, seed);
  const u = choleskySolve(cholesky(c, n) as Float64Array, n, kStar);
  const lambda = new SeededRandom(seed + 1).gaussianArray(model.dModel);
  const scale = size / (Math.hypot(...u) * Math.hypot(...lambda));
  return { u, lambda: Float64Array.from(lambda, (x) => x * scale) };
}

function withUpdate(w: Float32Array, dModel: number, update: { u: Float64Array; lambda: Float64Array }): Float32Array {
  return Float32Array.from(w, (x, idx) => x + (update.u[Math.floor(idx / dModel)] as number) * (update.lambda[idx % dModel] as number));
}

function topSingularValue(w: Float32Array, rows: number, cols: number): number {
  const gram = new Float64Array(cols * cols);
  for (let a = 0; a < cols; a++) for (let b = 0; b < cols; b++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += (w[i * cols + a] as number) * (w[i * cols + b] as number);
    gram[a * cols + b] = s;
  }
  return Math.sqrt(symmetricEigen(gram, cols).values[0] as number);
}

describe('the key model against its definition', () => {
  for (const [name, swiglu] of [['LayerNorm + GELU', false], ['RMSNorm + SwiGLU', true]] as const) {
    it(`${name}: sampled keys equal the float64 definition entry by entry (d_ff 37, d_model 11)`, () => {
      const model = randomKeyModel(37, 11, 3, swiglu);
      const samples = 19;
      const keys = sampleKeys(model, samples);
      const inputs = normalInputs(model, samples);
      let worst = 0;
      for (let s = 0; s < samples; s++) for (let i = 0; i < 37; i++) worst = Math.max(worst, Math.abs((keys[s * 37 + i] as number) - bruteKey(model, inputs[s] as Float64Array, i)));
      expect(worst).toBeLessThan(1e-5);
    });
  }

  it('the moment is K^T K and the correlation scales it to a unit diagonal plus the ridge; a dead neuron stays apart', async () => {
    const samples = 23;
    const n = 9;
    const keys = new SeededRandom(5).gaussianArray(samples * n);
    for (let s = 0; s < samples; s++) keys[s * n + 4] = 0; // neuron 4 never fires
    const moment = await keyMoment(keys, samples, n, cpuBackend);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < samples; t++) s += (keys[t * n + i] as number) * (keys[t * n + j] as number);
      expect(moment[i * n + j]).toBeCloseTo(s, 4);
    }
    const corr = keyCorrelation(moment, n, 0.01);
    for (let i = 0; i < n; i++) {
      expect(corr[i * n + i]).toBeCloseTo(1.01, 12);
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        const expected = i === 4 || j === 4 ? 0 : (moment[i * n + j] as number) / Math.sqrt((moment[i * n + i] as number) * (moment[j * n + j] as number));
        expect(corr[i * n + j]).toBeCloseTo(expected, 6);
      }
    }
  });
});

describe('the key-whitened spectrum against an eigen-decomposition route', () => {
  for (const [dFf, dModel, swiglu] of [[37, 11, false], [130, 24, true], [97, 33, false]] as const) {
    it(`d_ff ${dFf}, d_model ${dModel}${swiglu ? ', SwiGLU' : ''}: singular values of L^-1 W equal those of C^-1/2 W`, async () => {
      const model = randomKeyModel(dFf, dModel, dFf, swiglu);
      const w = new SeededRandom(dFf + 1).gaussianArray(dFf * dModel);
      const samples = KEY_WHITENING.samples;
      const correlation = keyCorrelation(await keyMoment(sampleKeys(model, samples), samples, dFf), dFf);
      const expected = eigenRouteSpectrum(correlation, w, dFf, dModel);
      const got = await keyWhitenedSpectrum(w, dFf, dModel, model);
      expect(got.spectrum.length).toBe(Math.min(KEY_WHITENING.gaps + 1, dModel));
      got.spectrum.forEach((s, j) => expect(Math.abs(s - (expected[j] as number)) / (expected[0] as number)).toBeLessThan(1e-4));
      let best = 0;
      let at = 0;
      for (let j = 1; j < got.spectrum.length; j++) if ((expected[j - 1] as number) / (expected[j] as number) > best) [best, at] = [(expected[j - 1] as number) / (expected[j] as number), j];
      expect(got.gapIndex).toBe(at);
      expect(got.gap).toBeCloseTo(best, 3);
    });
  }

  it('is blind to per-neuron rescaling: of W rows (any factors), and of SwiGLU up rows against down rows (same function)', async () => {
    const dFf = 64;
    const dModel = 16;
    const model = randomKeyModel(dFf, dModel, 21, true);
    const w = new SeededRandom(22).gaussianArray(dFf * dModel);
    const reference = await keyWhitenedSpectrum(w, dFf, dModel, model);
    const factors = Float64Array.from({ length: dFf }, (_, i) => Math.exp(Math.sin(7 * i) * 1.4)); // 0.25x-4x
    const rescaledRows = Float32Array.from(w, (x, idx) => x * (factors[Math.floor(idx / dModel)] as number));
    expect((await keyWhitenedSpectrum(rescaledRows, dFf, dModel, model)).gap).toBeCloseTo(reference.gap, 4);
    const up = Float32Array.from(model.input, (x, idx) => x * (factors[Math.floor(idx / dModel)] as number));
    const down = Float32Array.from(w, (x, idx) => x / (factors[Math.floor(idx / dModel)] as number));
    expect((await keyWhitenedSpectrum(down, dFf, dModel, { ...model, input: up })).gap).toBeCloseTo(reference.gap, 3);
  });
});

describe('a known rank-one construction: ROME with the mom2 adjustment stands out in the keys\' geometry', () => {
  // The mechanism needs keys in few effective dimensions against d_ff, as trained layers have them (the GPT-2
  // demo: participation ratio 14 of 384): GELU in its near-linear range on few inputs, or SwiGLU on very few.
  for (const [dFf, dModel, swiglu, inputScale] of [[192, 24, false, 0.5], [200, 8, true, 1]] as const) {
    it(`d_ff ${dFf}, d_model ${dModel}${swiglu ? ', SwiGLU' : ', GELU'}: a trained-like W stays under the threshold; W + C^-1 k* lambda^T half W's top singular value goes over`, async () => {
      const model = randomKeyModel(dFf, dModel, dFf * 3, swiglu, inputScale);
      const w = keySpanMatrix(sampleKeys(model, 3000, 77), 3000, dFf, dModel, 78);
      const whitener = await keyWhitener(model);
      expect((await whitenedGaps(w, dFf, dModel, whitener)).gap).toBeLessThan(VERDICT_RULE.minKeyGap);
      const after = await whitenedGaps(withUpdate(w, dModel, romeUpdate(model, 0.5 * topSingularValue(w, dFf, dModel), 91)), dFf, dModel, whitener);
      expect(after.gap).toBeGreaterThan(1.5 * VERDICT_RULE.minKeyGap);
      expect(after.gapIndex).toBe(1);
    });
  }

  it('the limit: with keys spread over many dimensions (SwiGLU, d_model 40 of d_ff 200) C^-1 k* is no rarer a direction than k*, and the same edit does not stand out', async () => {
    const model = randomKeyModel(200, 40, 600, true, 0.3);
    const w = keySpanMatrix(sampleKeys(model, 3000, 77), 3000, 200, 40, 78);
    const whitener = await keyWhitener(model);
    const after = await whitenedGaps(withUpdate(w, 40, romeUpdate(model, 0.5 * topSingularValue(w, 200, 40), 91)), 200, 40, whitener);
    expect(after.gap).toBeLessThan(VERDICT_RULE.minKeyGap);
  });
});

describe('the key rule in the verdict', () => {
  const layer = (gap: number | null): LayerSignals => ({ pcs: 0.004, sigmaRatio: 1.1, rows: 384, cols: 96, spectrum: [1.1, 1, 0.98, 0.96], ...(gap === null ? {} : { keyWhitened: { gap, gapIndex: 1 } }) });

  it('flags a layer whose gap reaches the threshold and stands out from the others', () => {
    const v = judgeLayers([layer(1.08), layer(1.1), layer(2.4), layer(1.05)]);
    expect(v.map((x) => x.flagged)).toEqual([false, false, true, false]);
    expect(v[2]?.reasons).toEqual(['keys']);
    expect(v[2]?.keyGapZ).toBeGreaterThan(VERDICT_RULE.keyGapZ);
  });

  it('does not flag below the threshold, nor a layer that does not stand out from the others', () => {
    expect(judgeLayers([layer(1.1), layer(1.5), layer(1.05), layer(1.12)]).some((x) => x.flagged)).toBe(false);
    // Every layer high (a model the key model does not describe): none stands out, none flagged.
    expect(judgeLayers([layer(2.0), layer(2.1), layer(1.95), layer(2.05)]).some((x) => x.flagged)).toBe(false);
  });

  it('needs no other layer: one or two layers are judged on the threshold alone; absent statistics never flag', () => {
    expect(judgeLayers([layer(1.9)]).map((x) => x.reasons)).toEqual([['keys']]);
    expect(judgeLayers([layer(1.2), layer(1.7)]).map((x) => x.flagged)).toEqual([false, true]);
    expect(judgeLayers([layer(null), layer(null), layer(null)]).some((x) => x.flagged)).toBe(false);
  });
});

/** A 4-layer GPT-2 checkpoint with every tensor the key model reads; W rows in each layer's key span, optionally one ROME update. */
function gpt2KeyCheckpoint(editedLayer: number | null, tamper?: (name: string, values: Float32Array) => void): MemorySource[] {
  const dFf = 160;
  const dModel = 20;
  const tensors: TensorToWrite[] = [];
  for (let l = 0; l < 4; l++) {
    const model = randomKeyModel(dFf, dModel, 500 + l, false, 0.5);
    let w = keySpanMatrix(sampleKeys(model, 2000, 600 + l), 2000, dFf, dModel, 700 + l);
    if (l === editedLayer) w = withUpdate(w, dModel, romeUpdate(model, 0.5 * topSingularValue(w, dFf, dModel), 800));
    const inputStored = new Float32Array(dModel * dFf); // Conv1D: [d_model, d_ff]
    for (let i = 0; i < dFf; i++) for (let j = 0; j < dModel; j++) inputStored[j * dFf + i] = model.input[i * dModel + j] as number;
    const add = (name: string, shape: number[], values: Float32Array) => {
      tamper?.(name, values);
      tensors.push({ name, dtype: 'F32', shape, values });
    };
    add(`transformer.h.${l}.ln_2.weight`, [dModel], model.normWeight);
    add(`transformer.h.${l}.ln_2.bias`, [dModel], model.normBias as Float32Array);
    add(`transformer.h.${l}.mlp.c_fc.weight`, [dModel, dFf], inputStored);
    add(`transformer.h.${l}.mlp.c_fc.bias`, [dFf], model.inputBias as Float32Array);
    add(`transformer.h.${l}.mlp.c_proj.weight`, [dFf, dModel], w);
  }
  const config = new TextEncoder().encode(JSON.stringify({ model_type: 'gpt2', n_layer: 4 }));
  return [new MemorySource('model.safetensors', writeSafetensors(tensors, { format: 'pt' })), new MemorySource('config.json', config)];
}

async function scanSources(sources: MemorySource[], keyWhitening?: 'never') {
  return scanModel(await openCheckpoint(sources, resolverFromSources(sources)), { backend: cpuBackend, k: 8, ...(keyWhitening ? { keyWhitening } : {}) });
}

describe('the scan reads the MLP input side by the family\'s names', () => {
  it('flags the layer with the planted update by the key rule alone, and reports every layer\'s gap', async () => {
    const { report, details } = await scanSources(gpt2KeyCheckpoint(2));
    expect(report.verdict.editedLayers).toEqual([2]);
    expect(details[2]?.reasons).toEqual(['keys']);
    expect(report.layers.every((l) => l.keyWhitenedGap !== null)).toBe(true);
    expect(report.verdict.findings.join('\n')).toContain('whitened by the layer\'s own keys');
  }, 60_000);

  it('flags nothing on the unedited checkpoint; with key whitening off, no gap is computed', async () => {
    expect((await scanSources(gpt2KeyCheckpoint(null))).report.verdict.editedLayers).toEqual([]);
    const off = await scanSources(gpt2KeyCheckpoint(2), 'never');
    expect(off.report.layers.every((l) => l.keyWhitenedGap === null)).toBe(true);
  }, 60_000);

  it('planted NaN and a huge weight in the input matrix cannot hide the edit', async () => {
    const { report } = await scanSources(gpt2KeyCheckpoint(2, (name, values) => {
      if (name === 'transformer.h.2.mlp.c_fc.weight') [values[5], values[999]] = [Number.NaN, 1e30];
      if (name === 'transformer.h.2.ln_2.weight') values[3] = Number.POSITIVE_INFINITY;
    }));
    expect(report.verdict.editedLayers).toEqual([2]);
  }, 60_000);

  it('an input matrix of the wrong shape is refused, naming the file and the tensor', async () => {
    const tensors: TensorToWrite[] = [
      { name: 'transformer.h.0.ln_2.weight', dtype: 'F32', shape: [40], values: new Float32Array(40).fill(1) },
      { name: 'transformer.h.0.ln_2.bias', dtype: 'F32', shape: [40], values: new Float32Array(40) },
      // d_ff 150 where the output matrix has 160 rows.
      { name: 'transformer.h.0.mlp.c_fc.weight', dtype: 'F32', shape: [40, 150], values: new Float32Array(6000) },
      { name: 'transformer.h.0.mlp.c_fc.bias', dtype: 'F32', shape: [160], values: new Float32Array(160) },
      { name: 'transformer.h.0.mlp.c_proj.weight', dtype: 'F32', shape: [160, 40], values: new SeededRandom(1).gaussianArray(6400) },
    ];
    const bad = [new MemorySource('model.safetensors', writeSafetensors(tensors, { format: 'pt' }))];
    await expect(scanSources(bad)).rejects.toThrow(/model\.safetensors.*c_fc\.weight|c_fc\.weight.*model\.safetensors/s);
  });
});
