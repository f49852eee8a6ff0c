import { inverseSquareRoot } from '../core/covarianceStats';
import { type LayerVerdict, judgeLayers } from '../core/editVerdict';
import { cpuBackend } from '../core/matrixBackend';
import { rowMatrix } from '../core/matrix';
import { randomizedSvd } from '../core/randomizedSvd';

/**
 * The spectrum of a layer's MLP output matrix in the keys' whitened geometry, (C + floor)^-1/2 W, with C the
 * uncentred second moment of the matrix's inputs over text (what ROME's mom2 adjustment uses). ROME as
 * published writes u = C^-1 k*, which lies in the low-variance key directions that W's own rows avoid: there
 * the update stands out even when it is no larger than W's top singular values. Not weights alone: C needs
 * the model run on text. Returns the top-k singular values, descending.
 */
export async function whitenedTopSpectrum(w: Float32Array, rows: number, cols: number, whitener: Float64Array, k = 16): Promise<number[]> {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let j = 0; j < rows; j++) s += (whitener[i * rows + j] as number) * (w[j * cols + c] as number);
      out[i * cols + c] = s;
    }
  }
  const loaded = await cpuBackend.load(rowMatrix(rows, cols, out));
  try {
    return Array.from((await randomizedSvd(loaded, { k, oversampling: 10, powerIterations: 6, seed: 0x5eed })).values);
  } finally {
    loaded.release();
  }
}

/** (C + relativeFloor * max eigenvalue * I)^-1/2 per layer, from each layer's key second moment [d_ff, d_ff]. */
export function keyWhiteners(moments: readonly Float64Array[], n: number, relativeFloor = 1e-4): Float64Array[] {
  return moments.map((m) => inverseSquareRoot(m, n, relativeFloor));
}

/** The verdict's spectral rules (sigma1/sigma2 and spikes) on whitened spectra, one per layer. */
export function judgeWhitened(spectra: readonly number[][], rows: number, cols: number): LayerVerdict[] {
  return judgeLayers(spectra.map((s) => ({ pcs: Number.NaN, sigmaRatio: (s[0] as number) / (s[1] as number), rows, cols, spectrum: s })));
}
