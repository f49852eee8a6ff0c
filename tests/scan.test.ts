import { describe, expect, it } from 'vitest';
import { nativeWorkerBackend } from '../src/native/nativeWorkerBackend';
import { localKernelThread } from '../src/wasm/kernelThreads';
import { ResidentKernels } from '../src/wasm/residentKernels';
import { residentMatrixBackend } from '../src/wasm/residentMatrixBackend';
import { judgeLayers } from '../src/core/editVerdict';
import { cpuBackend, type MatrixBackend } from '../src/core/matrixBackend';
import { leaveOneOutRobustZ, median, medianAbsoluteDeviation } from '../src/core/robustStats';
import { scanModel } from '../src/analysis/scanModel';
import { customFamily } from '../src/families/customFamily';
import { detectFamily } from '../src/families/registry';
import { MemorySource, resolverFromSources } from '../src/formats/byteSource';
import { openCheckpoint } from '../src/formats/checkpoint';
import { gpuBackend } from '../src/gpu/gpuMatrix';
import { buildFixture, type FixtureSpec, type NamedFile } from './fixtures/syntheticCheckpoint';
import { requireOrSkip } from './helpers/gpu';
import { bruteForcePcs } from './helpers/independentMath';

const gpu = await requireOrSkip();

async function open(files: NamedFile[]) {
  const sources = files.map((f) => new MemorySource(f.name, f.bytes));
  return openCheckpoint(sources, resolverFromSources(sources));
}

describe('robust statistics', () => {
  it('median, MAD and leave-one-out z by hand', () => {
    expect(median([3, 1, 2, 10])).toBe(2.5);
    expect(medianAbsoluteDeviation([1, 2, 3, 4, 100])).toBe(1);
    // others of index 4: [1,2,3,4] median 2.5, MAD 1 -> scale 1.4826; z = (100 - 2.5) / 1.4826
    expect(leaveOneOutRobustZ([1, 2, 3, 4, 100], 4, () => 0)).toBeCloseTo(97.5 / 1.4826, 10);
    expect(leaveOneOutRobustZ([1, 2], 0, () => 0)).toBeNaN();
  });

  it('flags nothing with fewer than three layers, and a clear outlier otherwise', () => {
    const l = (pcs: number, sigmaRatio = 1.1) => ({ pcs, sigmaRatio, rows: 1000, cols: 100 });
    expect(judgeLayers([l(0.01), l(0.5)]).some((v) => v.flagged)).toBe(false);
    expect(judgeLayers([l(0.01), l(0.012), l(0.011), l(0.3), l(0.009)]).map((v) => v.flagged)).toEqual([false, false, false, true, false]);
    expect(judgeLayers([l(0.01), l(0.012, 4), l(0.011), l(0.01), l(0.009)]).map((v) => v.flagged)).toEqual([false, true, false, false, false]);
  });

  it('four layers, two of the others within 4% of each other: an unedited layer with a natural sigma1/sigma2 of 1.89 is not flagged; a clear spectral outlier still is', () => {
    // The GPT-J demo's layers after one of its edits at layer 0 (sigma1/sigma2 1.35, 1.89, 1.30, 1.57; pcs alike).
    const l = (sigmaRatio: number) => ({ pcs: 0.01, sigmaRatio, rows: 384, cols: 96 });
    const gptj = judgeLayers([l(1.35), l(1.89), l(1.3), l(1.57)]);
    // By hand: others of layer 1 are log(1.35, 1.30, 1.57) = 0.300, 0.262, 0.451: median 0.300, MAD 0.038,
    // 1.4826 MAD = 0.056 < the floor 0.08, so z = (0.637 - 0.300) / 0.08 = 4.2 (6.0 with a 0.05 floor).
    expect(gptj[1]!.sigmaRatioZ).toBeCloseTo((Math.log(1.89) - Math.log(1.35)) / 0.08, 6);
    expect(gptj.some((v) => v.flagged)).toBe(false);
    // Among tight unedited layers (the GPT-2 demo's 1.04-1.09) a layer needs e^(6 x 0.08) = 1.62x their median:
    // 1.75 is flagged, 1.65 only just, 1.6 not.
    expect(judgeLayers([l(1.75), l(1.053), l(1.086), l(1.04)]).map((v) => v.flagged)).toEqual([true, false, false, false]);
    expect(judgeLayers([l(1.6), l(1.053), l(1.086), l(1.04)]).some((v) => v.flagged)).toBe(false);
  });
});

describe('families', () => {
  it('detects from model_type, from tensor names, and from a user pattern', () => {
    expect(detectFamily('llama', ['model.layers.0.mlp.down_proj.weight'])?.family.id).toBe('llama');
    expect(detectFamily('qwen2', ['model.layers.3.mlp.down_proj.weight'])?.detectedBy).toBe('config');
    expect(detectFamily(null, ['h.0.mlp.c_proj.weight', 'h.1.mlp.c_proj.weight', 'h.0.attn.c_proj.weight'])?.layers.map((l) => l.tensor)).toEqual([
      'h.0.mlp.c_proj.weight',
      'h.1.mlp.c_proj.weight',
    ]);
    expect(detectFamily(null, ['gpt_neox.layers.2.mlp.dense_4h_to_h.weight'])?.family.rowsAxis).toBe(1);
    expect(detectFamily(null, ['blocks.0.ff.out.weight'])).toBeNull();
    const custom = detectFamily(null, ['blocks.0.ff.out.weight', 'blocks.10.ff.out.weight'], customFamily('blocks.{i}.ff.out.weight', 1));
    expect(custom?.layers.map((l) => l.layer)).toEqual([0, 10]);
    expect(() => customFamily('no placeholder', 0)).toThrow(/\{i\}/);
  });
});

const sharedKernels = new ResidentKernels(true);
const BACKENDS: { name: string; backend: MatrixBackend | null }[] = [
  { name: 'cpu', backend: cpuBackend },
  // Backends that copy a matrix on load: the scan reads the next layer into the same buffer meanwhile.
  { name: 'cpu, resident WebAssembly kernels with rows split in two blocks (the page)', backend: residentMatrixBackend(sharedKernels, [0, 1].map(() => localKernelThread(sharedKernels.exports)), { splitMinWork: 0 }) },
  // Staged backends: a layer's stored bytes decoded straight into the kernels' memory. An unshared memory (a
  // page without cross-origin isolation) replaces its buffer when it grows, so every use takes a fresh view.
  { name: 'cpu, resident WebAssembly kernels on an unshared memory (a page without cross-origin isolation)', backend: residentMatrixBackend() },
  { name: 'cpu, native products in a kernel thread (the CLI on 4 cores or more)', backend: nativeWorkerBackend(1) },
  { name: 'webgpu', backend: gpu ? gpuBackend(gpu, { maxRowsPerTile: 100 }) : null },
];

const CASES: { name: string; spec: FixtureSpec }[] = [
  { name: 'GPT-2 layout, u 85% one sign', spec: { family: 'gpt2', layers: 6, dFf: 256, dModel: 64, editedLayer: 3, positiveFraction: 0.85 } },
  { name: 'GPT-2 layout without the transformer. prefix, F16', spec: { family: 'gpt2-no-prefix', layers: 5, dFf: 200, dModel: 48, editedLayer: 0, positiveFraction: 0.85, dtype: 'F16', seed: 2 } },
  { name: 'GPT-J layout, u 85% one sign, BF16, 3 shards', spec: { family: 'gptj', layers: 6, dFf: 256, dModel: 64, editedLayer: 2, positiveFraction: 0.85, dtype: 'BF16', shards: 3, seed: 3 } },
  { name: 'Llama layout, balanced u', spec: { family: 'llama', layers: 6, dFf: 344, dModel: 64, editedLayer: 4, positiveFraction: 0.5, seed: 4 } },
  { name: 'Llama layout, balanced u, sharded F16', spec: { family: 'llama', layers: 5, dFf: 256, dModel: 48, editedLayer: 1, positiveFraction: 0.5, dtype: 'F16', shards: 2, seed: 5 } },
];

for (const { name: backendName, backend } of BACKENDS) {
  describe.skipIf(!backend)(`scan on ${backendName}`, () => {
    for (const { name, spec } of CASES) {
      it(`${name}: flags the edited layer and no other`, async () => {
        const fixture = buildFixture(spec);
        const result = await scanModel(await open(fixture.edited), { backend: backend!, k: 8 });
        const { report } = result;
        expect(report.layers.map((l) => l.flagged)).toEqual(report.layers.map((l) => l.layer === spec.editedLayer));
        expect(report.verdict.editedLayers).toEqual([spec.editedLayer]);
        expect(report.model).toMatchObject({ layers: spec.layers, rows: spec.dFf, cols: spec.dModel, dtype: spec.dtype ?? 'F32' });
        // The top singular vector of W' estimates u: its sign split should match the planted one.
        const edited = report.layers.find((l) => l.layer === spec.editedLayer)!;
        expect(Math.abs(edited.sameDirectionFraction! - Math.max(spec.positiveFraction, 1 - spec.positiveFraction))).toBeLessThan(0.08);
      });
    }

    it('an unedited model flags nothing', async () => {
      const fixture = buildFixture({ family: 'gpt2', layers: 6, dFf: 256, dModel: 64, editedLayer: null, positiveFraction: 0.5, seed: 9 });
      const { report } = await scanModel(await open(fixture.edited), { backend: backend!, k: 8 });
      expect(report.verdict.editedLayers).toEqual([]);
    });

    it('with the original: exact diff, rank-one share 1, and the planted direction split', async () => {
      const fixture = buildFixture({ family: 'gptj', layers: 4, dFf: 160, dModel: 40, editedLayer: 2, positiveFraction: 0.85, seed: 6 });
      const result = await scanModel(await open(fixture.edited), { backend: backend!, k: 8, original: await open(fixture.original) });
      const diff = result.report.diff!.layers;
      expect(diff.map((d) => d.frobenius > 0)).toEqual([false, false, true, false]);
      const update = fixture.update!;
      const expectedNorm = Math.hypot(...update.u) * Math.hypot(...update.lambda);
      expect(Math.abs(diff[2]!.frobenius - expectedNorm) / expectedNorm).toBeLessThan(1e-5);
      expect(diff[2]!.rankOneShare!).toBeGreaterThan(0.99999);
      const positives = update.u.filter((x) => x > 0).length;
      expect(diff[2]!.sameDirectionFraction).toBeCloseTo(positives / update.u.length, 10);
      expect(result.report.verdict.editedLayers).toEqual([2]);
    });

    it('pcs in the report equals the brute-force pcs of the stored matrix', async () => {
      const fixture = buildFixture({ family: 'gpt2', layers: 3, dFf: 120, dModel: 30, editedLayer: 1, positiveFraction: 0.85, seed: 8 });
      const ckpt = await open(fixture.edited);
      const { report } = await scanModel(ckpt, { backend: backend!, k: 4 });
      const { readTensorRows } = await import('../src/formats/tensorReader');
      const m = await readTensorRows(ckpt.tensors.get('transformer.h.1.mlp.c_proj.weight')!, 0);
      expect(Math.abs(report.layers[1]!.pcs! - bruteForcePcs(m.data, m.rows, m.cols).pcs)).toBeLessThan(1e-6);
    });
  });
}

describe('scan errors', () => {
  it('a scan cancelled between layers on the staged WebAssembly backend leaves nothing staged behind: the next scan needs no more memory', async () => {
    const kernels = new ResidentKernels();
    const backend = residentMatrixBackend(kernels);
    const fixture = buildFixture({ family: 'llama', layers: 5, dFf: 300, dModel: 64, editedLayer: 2, positiveFraction: 0.5, dtype: 'BF16', seed: 12 });
    const model = await open(fixture.edited);
    const whole = await scanModel(model, { backend, k: 4 });
    const high = kernels.memoryBytes;
    // Cancelled after layer 2's keys statistics: its matrix is staged, not yet loaded.
    let layersSeen = 0;
    const cancelled = scanModel(model, { backend, k: 4, onProgress: (p) => void (p.message.includes('key-whitened') && layersSeen++), isCancelled: () => layersSeen >= 3 });
    await expect(cancelled).rejects.toThrow('cancelled');
    const again = await scanModel(model, { backend, k: 4 });
    expect(kernels.memoryBytes).toBe(high);
    expect(again.report).toEqual(whole.report);
  });

  it('asks for a pattern when no family matches, and cancels on request', async () => {
    const { writeSafetensors } = await import('../src/formats/safetensorsWriter');
    const files = [{ name: 'model.safetensors', bytes: writeSafetensors([{ name: 'blocks.0.ff.out.weight', dtype: 'F32', shape: [4, 8], values: new Float32Array(32) }]) }];
    await expect(scanModel(await open(files), { backend: cpuBackend })).rejects.toThrow(/no known model family .* give the MLP output tensor pattern/);
    const custom = await scanModel(await open(files), { backend: cpuBackend, family: customFamily('blocks.{i}.ff.out.weight', 1) });
    expect(custom.report.model).toMatchObject({ family: 'custom', rows: 8, cols: 4 });
    expect(custom.report.layers[0]!.pcs).toBeNull(); // all rows zero: no pcs
    const fixture = buildFixture({ family: 'gpt2', layers: 4, dFf: 64, dModel: 16, editedLayer: 1, positiveFraction: 0.85 });
    await expect(scanModel(await open(fixture.edited), { backend: cpuBackend, isCancelled: () => true })).rejects.toThrow('cancelled');
  });
});
