import { keyWhitener, type MlpKeyModel, whitenedGaps } from '../src/core/keyWhitening';
import type { MatrixBackend } from '../src/core/matrixBackend';
import { rowMatrix } from '../src/core/matrix';
import { randomizedSvd } from '../src/core/randomizedSvd';
import { DEFAULT_SCAN } from '../src/analysis/scanModel';
import { fillNoise, fmtSeconds, medianSeconds } from './benchUtil';

/**
 * The keys gap's cost per layer (sampled keys, their correlation on the backend, the Cholesky factor, the
 * whitened spectrum) against the same layer's pcs and top-16 randomized SVD, the scan's other work, in the
 * same run: what turning it on costs a scan, at the demos' d_ff and at the automatic limit.
 */
export async function benchKeyWhitening(backend: MatrixBackend): Promise<void> {
  console.log(`\nKeys gap per layer against the scan's pcs + top-16 rSVD of the same layer (${backend.description}):`);
  for (const [dFf, dModel] of [[384, 96], [1024, 256]] as const) {
    const noise = (n: number, seed: number) => {
      const a = new Float32Array(n);
      fillNoise(a, seed);
      return a;
    };
    const model: MlpKeyModel = {
      dModel,
      dFf,
      normWeight: new Float32Array(dModel).fill(1),
      normBias: noise(dModel, 1).map((x) => 0.1 * x),
      input: noise(dFf * dModel, 2).map((x) => x / Math.sqrt(dModel)),
      inputBias: noise(dFf, 3).map((x) => 0.3 * x),
      gate: null,
    };
    const w = noise(dFf * dModel, 4);
    const keys = await medianSeconds(async () => whitenedGaps(w, dFf, dModel, await keyWhitener(model, backend)), 3);
    const scan = await medianSeconds(async () => {
      const loaded = await backend.load(rowMatrix(dFf, dModel, w));
      try {
        await loaded.pairwiseCosine();
        await randomizedSvd(loaded, { k: DEFAULT_SCAN.k, oversampling: DEFAULT_SCAN.oversampling, powerIterations: DEFAULT_SCAN.powerIterations, seed: DEFAULT_SCAN.seed });
      } finally {
        loaded.release();
      }
    }, 3);
    console.log(`  d_ff ${dFf} x d_model ${dModel}: keys gap ${fmtSeconds(keys)}, pcs + rSVD ${fmtSeconds(scan)}: ${(keys / scan).toFixed(1)}x`);
  }
}
