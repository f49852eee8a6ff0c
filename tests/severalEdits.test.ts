import { describe, expect, it } from 'vitest';
import { scanModel } from '../src/analysis/scanModel';
import { judgeLayers, type LayerSignals } from '../src/core/editVerdict';
import { cpuBackend } from '../src/core/matrixBackend';
import type { SeededRandom } from '../src/core/random';
import { MemorySource, resolverFromSources } from '../src/formats/byteSource';
import { openCheckpoint } from '../src/formats/checkpoint';
import { buildFixture, type FixtureSpec, type NamedFile } from './fixtures/syntheticCheckpoint';

/**
 * Several edits in one matrix (README "How a layer is flagged", the spike rule): n rank-one updates of
 * similar size make n spikes, sigma1/sigma2 falls back into the unedited range, and the gap after the n-th
 * spike is what gives them away. Checked on exact spectra and on synthetic checkpoints of both layouts.
 */
async function open(files: NamedFile[]) {
  const sources = files.map((f) => new MemorySource(f.name, f.bytes));
  return openCheckpoint(sources, resolverFromSources(sources));
}

/** A unit vector with `fraction` of its entries positive, random magnitudes. */
function unitWithSigns(n: number, fraction: number, rng: SeededRandom): Float32Array {
  const u = Float32Array.from({ length: n }, (_, i) => (i < Math.round(fraction * n) ? 1 : -1) * (0.2 + Math.abs(rng.gaussian())));
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    [u[i], u[j]] = [u[j] as number, u[i] as number];
  }
  const norm = Math.hypot(...u);
  return u.map((x) => x / norm);
}

/** Adds `extra` more rank-one updates to `layer`, each of norm `scale` x the base's sigma1 estimate times a factor in [0.85, 1.15]. */
function moreEdits(spec: FixtureSpec, layer: number, extra: number, scale: number): FixtureSpec['tamper'] {
  return (l, rows, rng) => {
    if (l !== layer) return;
    const sigmaBase = 0.02 * (Math.sqrt(spec.dFf) + Math.sqrt(spec.dModel));
    for (let e = 0; e < extra; e++) {
      const u = unitWithSigns(spec.dFf, spec.positiveFraction, rng);
      const lambda = unitWithSigns(spec.dModel, 0.5, rng).map((x) => x * scale * sigmaBase * (0.85 + 0.3 * rng.next()));
      for (let i = 0; i < spec.dFf; i++) for (let c = 0; c < spec.dModel; c++) rows[i * spec.dModel + c] = (rows[i * spec.dModel + c] as number) + (u[i] as number) * (lambda[c] as number);
    }
  };
}

describe('the spike rule on exact spectra', () => {
  const flat = (top: number, seed: number) => Array.from({ length: 16 }, (_, j) => top * 0.985 ** j * (1 + 0.004 * Math.sin(seed * 7 + j)));
  const layer = (spectrum: number[]): LayerSignals => ({ pcs: 1e-3, sigmaRatio: (spectrum[0] as number) / (spectrum[1] as number), rows: 400, cols: 100, spectrum });

  it('n spikes of equal height (sigma1/sigma2 = 1) are counted and flagged; unedited layers are not', () => {
    for (const n of [2, 3, 5, 8]) {
      const layers = [0, 1, 2, 3, 4, 5].map((i) => layer(flat(10 + i, i)));
      // n equal spikes at 3x the bulk: sigma1 = ... = sigma_n, then the bulk.
      layers[2] = layer([...Array.from({ length: n }, () => 30), ...flat(10, 9).slice(0, 16 - n)]);
      const verdicts = judgeLayers(layers);
      expect(verdicts.map((v) => v.flagged)).toEqual([false, false, true, false, false, false]);
      expect(verdicts[2]?.reasons).toEqual(['spikes']);
      expect(verdicts[2]?.spikes).toBe(n);
    }
  });

  it('a gap under 1.2, or one the other layers share at the same index, is not a spike', () => {
    const layers = [0, 1, 2, 3, 4].map((i) => layer(flat(10 + i, i)));
    layers[1] = layer([11.5, 11.4, 11.3, ...flat(9.8, 3).slice(0, 13)]);
    expect(judgeLayers(layers)[1]?.flagged).toBe(false);
    // Every layer with the same natural gap after its 3rd value: nothing stands out.
    const shared = [0, 1, 2, 3, 4].map((i) => layer([14 + i, 13.8 + i, 13.6 + i, ...flat(10 + i, i).slice(0, 13)]));
    expect(judgeLayers(shared).some((v) => v.flagged)).toBe(false);
  });
});

describe('several edits in synthetic checkpoints', () => {
  const GPT: FixtureSpec = { family: 'gpt2', layers: 6, dFf: 256, dModel: 64, editedLayer: 3, positiveFraction: 0.85, seed: 21 };
  const LLAMA: FixtureSpec = { family: 'llama', layers: 6, dFf: 344, dModel: 64, editedLayer: 4, positiveFraction: 0.5, seed: 22 };

  for (const base of [GPT, LLAMA]) {
    for (const n of [2, 3, 5]) {
      it(`${n} edits of similar size in the ${base.family} layer: flagged alone, ${n} spikes counted`, async () => {
        const spec: FixtureSpec = { ...base, updateScale: 4 };
        spec.tamper = moreEdits(spec, base.editedLayer as number, n - 1, 4);
        const result = await scanModel(await open(buildFixture(spec).edited), { backend: cpuBackend, k: 16 });
        expect(result.report.verdict.editedLayers).toEqual([base.editedLayer]);
        const detail = result.details.find((d) => d.layer === base.editedLayer);
        expect(detail?.spikes).toBe(n);
        expect(result.report.verdict.findings.some((f) => f.includes(`${n} directions stand out of the spectrum together`))).toBe(true);
      });
    }
  }

  it('unedited models of both layouts (six seeds each) flag nothing', async () => {
    for (const base of [GPT, LLAMA]) {
      for (let seed = 30; seed < 36; seed++) {
        const result = await scanModel(await open(buildFixture({ ...base, editedLayer: null, seed }).edited), { backend: cpuBackend, k: 16 });
        expect(result.report.verdict.editedLayers).toEqual([]);
      }
    }
  });
});
