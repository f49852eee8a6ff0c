import { cholesky } from './cholesky';
import { gemmNTReference } from './gemm';
import { cpuBackend, type MatrixBackend } from './matrixBackend';
import { rowMatrix } from './matrix';
import { cpuOperator, randomizedSvd } from './randomizedSvd';
import { SeededRandom } from './random';

/**
 * The key-whitened spectrum of an MLP output matrix, from the layer's own weights (no text).
 *
 * ROME as published writes u = C^-1 k*, with C the second moment of the matrix's inputs (the keys): u lies in
 * key directions of low variance, which a trained W's rows avoid (W's gradient is a sum of keys times output
 * errors). Whitened by C, an edit stands out even when it is no larger than W's top singular values. C is
 * estimated from the layer alone: standard normal vectors through the layer's norm (its gain and bias), its
 * input matrix and activation give keys whose correlations follow the input weights. Correlation (not
 * covariance) and row-normalised W make the statistic blind to any per-neuron rescaling, of the keys or of
 * W's rows, so neither trades scale for a hidden edit.
 */
export interface MlpKeyModel {
  dModel: number;
  dFf: number;
  normWeight: Float32Array;
  /** LayerNorm's bias; null for RMSNorm. */
  normBias: Float32Array | null;
  /** Input weights, one row of d_model per neuron [d_ff, d_model]; with a gate, the linear (`up`) factor. */
  input: Float32Array;
  inputBias: Float32Array | null;
  /** SwiGLU's gate rows [d_ff, d_model]: key = silu(gate . x) (input . x). */
  gate: Float32Array | null;
}

export const KEY_WHITENING = {
  /**
   * Random inputs per layer, at least twice d_ff (a correlation matrix of fewer samples than neurons is rank
   * deficient): the sampling error is far below what flags (measured on the forge models, d_ff 384: 1024-8192
   * samples move the statistic by < 0.1).
   */
  samples: 2048,
  /** Ridge added to the key correlation matrix (its diagonal is 1): bounds the amplification of directions no key visits. */
  ridge: 1e-3,
  /** Singular value gaps read: sigma_j / sigma_(j+1) for j = 1..gaps (several edits make several spikes). */
  gaps: 10,
  seed: 0x6b657973,
} as const;

/** GELU's tanh form (gelu_new), as GPT-2 and GPT-J use it. */
function gelu(z: number): number {
  return 0.5 * z * (1 + Math.tanh(0.7978845608028654 * (z + 0.044715 * z * z * z)));
}

/** `samples` keys [samples, d_ff] of the layer on standard normal inputs after its norm. */
export function sampleKeys(model: MlpKeyModel, samples: number, seed: number = KEY_WHITENING.seed): Float32Array {
  const { dModel, dFf } = model;
  const random = new SeededRandom(seed);
  const x = new Float32Array(samples * dModel);
  for (let s = 0; s < samples; s++) {
    for (let j = 0; j < dModel; j++) {
      x[s * dModel + j] = random.gaussian() * (model.normWeight[j] as number) + (model.normBias ? (model.normBias[j] as number) : 0);
    }
  }
  const keys = new Float32Array(samples * dFf);
  gemmNTReference(x, samples, dModel, model.input, dFf, keys);
  if (model.inputBias) for (let s = 0; s < samples; s++) for (let i = 0; i < dFf; i++) keys[s * dFf + i] = (keys[s * dFf + i] as number) + (model.inputBias[i] as number);
  if (model.gate) {
    const gate = new Float32Array(samples * dFf);
    gemmNTReference(x, samples, dModel, model.gate, dFf, gate);
    for (let t = 0; t < keys.length; t++) {
      const g = gate[t] as number;
      keys[t] = (g / (1 + Math.exp(-g))) * (keys[t] as number);
    }
  } else {
    for (let t = 0; t < keys.length; t++) keys[t] = gelu(keys[t] as number);
  }
  return keys;
}

/** The keys' uncentred second moment K^T K [d_ff, d_ff] (unscaled), on a backend's products (the scan's). */
export async function keyMoment(keys: Float32Array, samples: number, dFf: number, backend: MatrixBackend = cpuBackend): Promise<Float32Array> {
  const loaded = await backend.load(rowMatrix(samples, dFf, keys));
  try {
    return await loaded.multiplyTransposed(keys, dFf);
  } finally {
    loaded.release();
  }
}

/** A second moment scaled to the keys' correlation matrix, float64, with `ridge` on the diagonal; a neuron that never fires gets a unit diagonal. */
export function keyCorrelation(moment: Float32Array, dFf: number, ridge: number = KEY_WHITENING.ridge): Float64Array {
  const scale = new Float64Array(dFf);
  for (let i = 0; i < dFf; i++) {
    const d = moment[i * dFf + i] as number;
    scale[i] = d > 0 && Number.isFinite(d) ? 1 / Math.sqrt(d) : 0;
  }
  const out = new Float64Array(dFf * dFf);
  for (let i = 0; i < dFf; i++) {
    // Symmetrised: a backend's float32 product need not be exactly symmetric.
    for (let j = 0; j < dFf; j++) out[i * dFf + j] = 0.5 * ((moment[i * dFf + j] as number) + (moment[j * dFf + i] as number)) * (scale[i] as number) * (scale[j] as number);
    out[i * dFf + i] = 1 + ridge; // also for a neuron that never fires: its row and column are zero otherwise
  }
  return out;
}

/** L^-1 W for lower-triangular L [n, n] and W [n, cols] (forward substitution, column by column of W at once). */
export function lowerSolve(l: Float64Array, n: number, w: ArrayLike<number>, cols: number): Float64Array {
  const out = new Float64Array(n * cols);
  for (let i = 0; i < n; i++) {
    const row = i * cols;
    for (let c = 0; c < cols; c++) out[row + c] = w[row + c] as number;
    for (let k = 0; k < i; k++) {
      const lik = l[i * n + k] as number;
      if (lik === 0) continue;
      const from = k * cols;
      for (let c = 0; c < cols; c++) out[row + c] = (out[row + c] as number) - lik * (out[from + c] as number);
    }
    const d = l[i * n + i] as number;
    for (let c = 0; c < cols; c++) out[row + c] = (out[row + c] as number) / d;
  }
  return out;
}

export interface KeyWhitenedSpectrum {
  /** Top singular values of L^-1 W (L L^T = the key correlation plus ridge; W row-normalised), descending. */
  spectrum: number[];
  /** The largest gap sigma_j / sigma_(j+1), j = 1..KEY_WHITENING.gaps, and its j. */
  gap: number;
  gapIndex: number;
}

/** The lower Cholesky factor L of the layer's key correlation plus ridge (L L^T): what whitens its W. */
export async function keyWhitener(model: MlpKeyModel, backend: MatrixBackend = cpuBackend): Promise<Float64Array> {
  const samples = Math.max(KEY_WHITENING.samples, 2 * model.dFf);
  const keys = sampleKeys(model, samples);
  const l = cholesky(keyCorrelation(await keyMoment(keys, samples, model.dFf, backend), model.dFf), model.dFf);
  if (!l) throw new Error('the key correlation matrix is not positive definite');
  return l;
}

/**
 * The key-whitened spectrum of W [d_ff, d_model] (rows as the scan reads them, any scale: they are normalised
 * here), given the layer's whitener L. Singular values of L^-1 W equal those of C^-1/2 W, since
 * (L^-1 W)^T (L^-1 W) = W^T C^-1 W.
 */
export async function whitenedGaps(w: Float32Array, rows: number, cols: number, whitener: Float64Array): Promise<KeyWhitenedSpectrum> {
  if (whitener.length !== rows * rows) throw new Error(`the whitener is for ${Math.round(Math.sqrt(whitener.length))} neurons, the matrix has ${rows} rows`);
  const normalised = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += (w[i * cols + c] as number) ** 2;
    const inv = s > 0 && Number.isFinite(s) ? 1 / Math.sqrt(s) : 0;
    for (let c = 0; c < cols; c++) normalised[i * cols + c] = (w[i * cols + c] as number) * inv;
  }
  const whitened = Float32Array.from(lowerSolve(whitener, rows, normalised, cols));
  const k = Math.min(KEY_WHITENING.gaps + 1, rows, cols);
  const svd = await randomizedSvd(cpuOperator(rowMatrix(rows, cols, whitened)), { k, oversampling: 10, powerIterations: 6, seed: KEY_WHITENING.seed });
  const spectrum = Array.from(svd.values);
  let gap = Number.NaN;
  let gapIndex = 0;
  for (let j = 1; j < spectrum.length; j++) {
    const a = spectrum[j - 1] as number;
    const b = spectrum[j] as number;
    const g = b > 0 ? a / b : Number.NaN;
    if (Number.isFinite(g) && !(g <= gap)) {
      gap = g;
      gapIndex = j;
    }
  }
  return { spectrum, gap, gapIndex };
}

/** Both steps for one layer. */
export async function keyWhitenedSpectrum(w: Float32Array, rows: number, cols: number, model: MlpKeyModel, backend: MatrixBackend = cpuBackend): Promise<KeyWhitenedSpectrum> {
  if (model.dFf !== rows) throw new Error(`the key model has ${model.dFf} neurons, the matrix ${rows} rows`);
  return whitenedGaps(w, rows, cols, await keyWhitener(model, backend));
}
