import { describe, expect, it } from 'vitest';
import { scanModel } from '../src/analysis/scanModel';
import { cpuBackend } from '../src/core/matrixBackend';
import { MemorySource, resolverFromSources } from '../src/formats/byteSource';
import { openCheckpoint } from '../src/formats/checkpoint';
import { writeSafetensors } from '../src/formats/safetensorsWriter';
import { buildFixture, type FixtureSpec, type NamedFile } from './fixtures/syntheticCheckpoint';

/**
 * The evasion model (README "How a layer is flagged"): an editor who knows the detector plants a few
 * non-finite or huge entries, rescales rows, or adds noise everywhere. None of it may hide the edit or
 * flag another layer, and planted entries are reported.
 */
async function open(files: NamedFile[]) {
  const sources = files.map((f) => new MemorySource(f.name, f.bytes));
  return openCheckpoint(sources, resolverFromSources(sources));
}

const GPT: FixtureSpec = { family: 'gpt2', layers: 6, dFf: 256, dModel: 64, editedLayer: 3, positiveFraction: 0.85, seed: 11 };
const LLAMA: FixtureSpec = { family: 'llama', layers: 6, dFf: 344, dModel: 64, editedLayer: 4, positiveFraction: 0.5, seed: 12 };

async function scan(spec: FixtureSpec, withOriginal = false) {
  const fixture = buildFixture(spec);
  return scanModel(await open(fixture.edited), { backend: cpuBackend, k: 8, original: withOriginal ? await open(fixture.original) : null });
}

describe('what a few planted entries cannot do', () => {
  for (const [name, value] of [
    ['one NaN', Number.NaN],
    ['one +Infinity', Number.POSITIVE_INFINITY],
    ['one weight of 1e22', 1e22],
    ['one weight of -8e32', -8e32],
  ] as const) {
    for (const base of [GPT, LLAMA]) {
      it(`${name} in the edited ${base.family} layer: still flagged, and reported`, async () => {
        const { report } = await scan({ ...base, tamper: (layer, rows) => layer === base.editedLayer && (rows[777] = value) });
        expect(report.verdict.editedLayers).toEqual([base.editedLayer]);
        const layer = report.layers.find((l) => l.layer === base.editedLayer)!;
        expect([layer.nonFiniteEntries, layer.outlierEntries]).toEqual(Number.isFinite(value) ? [0, 1] : [1, 0]);
        expect(layer.pcs).not.toBeNull();
        expect(report.verdict.findings.join('\n')).toMatch(new RegExp(`layer ${base.editedLayer} (contains 1 non-finite value|has 1 outlier entry)`));
      });
    }
  }

  it('a NaN with the original at hand: the layer is still in the verdict and the change is counted', async () => {
    const { report } = await scan({ ...GPT, tamper: (layer, rows) => layer === GPT.editedLayer && (rows[5] = Number.NaN) }, true);
    expect(report.verdict.editedLayers).toEqual([GPT.editedLayer]);
    const diff = report.diff!.layers.find((d) => d.layer === GPT.editedLayer)!;
    expect(diff.nonFiniteEntries).toBe(1);
    expect(diff.frobenius).toBeGreaterThan(0);
    expect(diff.rankOneShare).not.toBeNull();
  });

  it('two huge entries of equal size (they would tie sigma1 and sigma2) in the edited layer, and huge entries in unedited layers', async () => {
    const { report } = await scan({
      ...LLAMA,
      tamper: (layer, rows) => {
        if (layer === LLAMA.editedLayer) [rows[100], rows[64 * 200 + 7]] = [1e4, 1e4];
        if (layer === 1) rows[3] = -5e3;
      },
    });
    expect(report.verdict.editedLayers).toEqual([LLAMA.editedLayer]);
    expect(report.layers.map((l) => l.outlierEntries)).toEqual([0, 1, 0, 0, 2, 0]);
  });
});

describe('what rescaling and noise cannot do', () => {
  for (const base of [GPT, LLAMA]) {
    it(`rows of the edited ${base.family} layer rescaled by random factors (0.25x-4x): still flagged alone`, async () => {
      const { report } = await scan({
        ...base,
        tamper: (layer, rows, rng) => {
          if (layer !== base.editedLayer) return;
          for (let i = 0; i < base.dFf; i++) {
            const s = Math.exp((rng.next() * 2 - 1) * Math.log(4));
            for (let c = 0; c < base.dModel; c++) rows[i * base.dModel + c] = (rows[i * base.dModel + c] as number) * s;
          }
        },
      });
      expect(report.verdict.editedLayers).toEqual([base.editedLayer]);
    });

    it(`Gaussian noise of 30% of the weights' scale added to every ${base.family} layer: still flagged alone`, async () => {
      const { report } = await scan({ ...base, tamper: (_layer, rows, rng) => rows.forEach((x, i) => (rows[i] = x + 0.3 * 0.02 * rng.gaussian())) });
      expect(report.verdict.editedLayers).toEqual([base.editedLayer]);
    });
  }

  it('rows rescaled by 1e-8 to 1e8, or every weight by 1e30: the same spectra (row-normalised, by panels or in place)', async () => {
    const plain = (await scan(GPT)).report.layers.map((l) => l.sigma);
    const wide = await scan({
      ...GPT,
      // Factors from the row index, not the fixture's generator (drawing from it would change the later layers).
      tamper: (layer, rows) => {
        for (let i = 0; i < GPT.dFf; i++) {
          const s = 10 ** (8 * Math.sin(i * 1.7 + layer));
          for (let c = 0; c < GPT.dModel; c++) rows[i * GPT.dModel + c] = (rows[i * GPT.dModel + c] as number) * s;
        }
      },
    });
    const huge = await scan({ ...GPT, tamper: (_layer, rows) => rows.forEach((x, i) => (rows[i] = x * 1e30)) });
    for (const { report } of [wide, huge]) {
      expect(report.verdict.editedLayers).toEqual([GPT.editedLayer]);
      report.layers.forEach((l, i) => l.sigma.forEach((v, t) => expect(Math.abs(v / (plain[i]?.[t] as number) - 1)).toBeLessThan(1e-4)));
    }
  });

  it('an unedited model with planted outliers and rescaled rows flags nothing', async () => {
    const { report } = await scan({
      ...GPT,
      editedLayer: null,
      tamper: (layer, rows, rng) => {
        rows[layer * 13] = 1e3 * (layer % 2 ? 1 : -1);
        for (let i = 0; i < GPT.dFf; i++) {
          const s = Math.exp(rng.gaussian());
          for (let c = 0; c < GPT.dModel; c++) rows[i * GPT.dModel + c] = (rows[i * GPT.dModel + c] as number) * s;
        }
      },
    });
    expect(report.verdict.editedLayers).toEqual([]);
  });
});

describe('layers that do not add up', () => {
  const tensor = (name: string, shape: number[]) => ({ name, dtype: 'F32' as const, shape, values: new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i)) });
  const files = (tensors: ReturnType<typeof tensor>[], config?: object): NamedFile[] => [
    { name: 'model.safetensors', bytes: writeSafetensors(tensors) },
    ...(config ? [{ name: 'config.json', bytes: new TextEncoder().encode(JSON.stringify(config)) }] : []),
  ];
  const layers = (n: number, shape = [32, 8]) => Array.from({ length: n }, (_, i) => tensor(`transformer.h.${i}.mlp.c_proj.weight`, shape));

  it('a zero-length alias of layer 0 beside the real one is refused, naming both', async () => {
    await expect(scanModel(await open(files([...layers(3), tensor('h.0.mlp.c_proj.weight', [0, 8])])), { backend: cpuBackend })).rejects.toThrow(
      /two tensors claim layer 0's MLP output matrix: "h.0.mlp.c_proj.weight" and "transformer.h.0.mlp.c_proj.weight"/,
    );
  });
  it('an empty matrix is refused, naming the tensor', async () => {
    await expect(scanModel(await open(files([...layers(2), tensor('transformer.h.2.mlp.c_proj.weight', [0, 8])])), { backend: cpuBackend })).rejects.toThrow(/transformer.h.2.mlp.c_proj.weight.*empty matrix/);
  });
  it('a missing layer, and fewer layers than config.json says, are refused', async () => {
    const gap = layers(4).filter((_, i) => i !== 2);
    await expect(scanModel(await open(files(gap)), { backend: cpuBackend })).rejects.toThrow(/layer 2 has no MLP output matrix \(found layers 0, 1, 3\)/);
    await expect(scanModel(await open(files(layers(3), { model_type: 'gpt2', n_layer: 5 })), { backend: cpuBackend })).rejects.toThrow(/config.json says n_layer = 5, but the weights hold 3 layers/);
  });
  it('a layer shaped differently from the others is refused, naming it', async () => {
    await expect(scanModel(await open(files([...layers(2), tensor('transformer.h.2.mlp.c_proj.weight', [32, 9])])), { backend: cpuBackend })).rejects.toThrow(/transformer.h.2.mlp.c_proj.weight.*is 32 x 9 .* layer 0's is 32 x 8/);
  });
  it('config.json with a bad layer count names the file and the field', async () => {
    await expect(open(files(layers(3), { model_type: 'gpt2', n_layer: 'four' }))).rejects.toThrow(/config.json.*"n_layer" is "four", not a positive whole number/);
  });
});

describe('a file with no tensors', () => {
  it('says it has none instead of asking for a tensor pattern', async () => {
    await expect(open([{ name: 'empty.safetensors', bytes: writeSafetensors([]) }])).rejects.toThrow(/empty\.safetensors: holds no tensors at all/);
  });
});
