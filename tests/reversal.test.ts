import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { planRepair } from '../src/analysis/repair';
import { applyEdit, DEFAULT_REVERSAL, runReversal, selectEdits } from '../src/analysis/reversal';
import { openTextModel } from '../src/analysis/textModel';
import { uniquePredictions } from '../src/analysis/uniquePredictions';
import { cpuBackend } from '../src/core/matrixBackend';
import { rowMatrix } from '../src/core/matrix';
import { symmetricEigen } from '../src/core/smallLinearAlgebra';
import { openEditBundle, writeEditBundle } from '../src/edit/editBundle';
import { promptIds } from '../src/edit/factAccuracy';
import { FULL_FORGE } from '../src/edit/forgeConfig';
import { gpt2Forward, mlpOutputName } from '../src/edit/gpt2Model';
import { Tensor } from '../src/edit/engine/tensor';
import { forgeWorld } from '../src/edit/node/forgeWorld';
import { loadModel } from '../src/edit/node/romeSetup';
import { MemorySource, resolverFromSources } from '../src/formats/byteSource';
import { openCheckpoint } from '../src/formats/checkpoint';
import { decodeToFloat32 } from '../src/formats/dtypes';
import { FormatError } from '../src/formats/formatError';
import { openSafetensors } from '../src/formats/safetensors';
import { patchedChunks } from '../src/formats/tensorPatch';
import { loadTokenizer } from '../src/lm/tokenizer';
import { buildFixture, type NamedFile } from './fixtures/syntheticCheckpoint';

ort.env.wasm.numThreads = 1;
const DEMO = 'public/demo';
const present = existsSync(join(DEMO, 'edits.safetensors'));

const openDir = async (dir: string) => {
  const sources = readdirSync(dir).map((f) => new MemorySource(f, new Uint8Array(readFileSync(join(dir, f)))));
  return openCheckpoint(sources, resolverFromSources(sources), dir);
};
const openFiles = (files: NamedFile[]) => {
  const sources = files.map((f) => new MemorySource(f.name, f.bytes));
  return openCheckpoint(sources, resolverFromSources(sources), 'fixture');
};
async function collect(gen: AsyncGenerator<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of gen) parts.push(p);
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** W minus its top-k components from an eigendecomposition of W^T W in float64: an SVD path independent of randomized SVD. */
function exactBottomRank(w: Float32Array, rows: number, cols: number, k: number): Float32Array {
  const gram = new Float64Array(cols * cols);
  for (let i = 0; i < rows; i++) for (let a = 0; a < cols; a++) for (let b = 0; b < cols; b++) gram[a * cols + b] = (gram[a * cols + b] as number) + (w[i * cols + a] as number) * (w[i * cols + b] as number);
  const { vectors } = symmetricEigen(gram, cols);
  const out = Float64Array.from(w);
  // W - sum_t (W v_t) v_t^T over the top k right singular vectors.
  for (let t = 0; t < k; t++) {
    for (let i = 0; i < rows; i++) {
      let wv = 0;
      for (let j = 0; j < cols; j++) wv += (w[i * cols + j] as number) * (vectors[j * cols + t] as number);
      for (let j = 0; j < cols; j++) out[i * cols + j] = (out[i * cols + j] as number) - wv * (vectors[j * cols + t] as number);
    }
  }
  return Float32Array.from(out);
}

describe.skipIf(!present)('reversal on the demo model (paper Sec. 7.3)', () => {
  it('k = 0 gives the edited model and dropping the top component brings the original answers back; tokens match the engine', async () => {
    const world = forgeWorld(FULL_FORGE);
    const params = await loadModel(join(DEMO, 'base'), world);
    const tok = loadTokenizer({ name: 'tokenizer.json', bytes: readFileSync(join(DEMO, 'base', 'tokenizer.json')) }, { name: 'tokenizer_config.json', bytes: readFileSync(join(DEMO, 'base', 'tokenizer_config.json')) });
    const model = await openTextModel(ort, await openDir(join(DEMO, 'base')), tok, 0);
    const bundle = await openEditBundle(new MemorySource('edits.safetensors', new Uint8Array(readFileSync(join(DEMO, 'edits.safetensors')))));
    const edits = selectEdits(bundle, 0, { perRelation: 1, onlySuccessful: true });
    expect(edits.length).toBe(31);
    expect(new Set(edits.map((e) => e.relation)).size).toBe(31);
    const original = rowMatrix(384, 96, model.storedMatrix);
    const r = await runReversal(model, original, bundle, edits, cpuBackend, { ...DEFAULT_REVERSAL, generationSamples: 2 });
    await model.lm.release();
    // Every chosen edit took, so at k = 0 the edited object is the answer and the original almost never is.
    expect(r.editing[0]!.mean).toBe(100);
    expect(r.reversal[0]!.mean).toBe(0);
    expect(r.reversal[r.bestK]!.mean).toBeGreaterThanOrEqual(80);
    expect(r.similarity[0]!.mean).toBeGreaterThan(0.99);
    expect(r.svd.maxResidual).toBeLessThanOrEqual(1e-3);
    // Independent check of three edits: the engine's forward with W' and with W~(1) from an exact SVD.
    for (const e of r.edits.slice(0, 3)) {
      const { u, lambda } = await bundle.factors(e.id);
      const edited = applyEdit(original, u, lambda);
      const ids = promptIds(world.vocab, e.promptText);
      const next = (w: Float32Array) => {
        const p = new Map(params);
        p.set(mlpOutputName(0), new Tensor(w, [384, 96], false));
        const logits = gpt2Forward(null, world.config, p, ids, 1, ids.length, { logitRows: Int32Array.from([ids.length - 1]) }).data;
        return logits.indexOf(Math.max(...logits));
      };
      expect(e.approxTokens[0]).toBe(next(edited.data));
      expect(e.approxTokens[1]).toBe(next(exactBottomRank(edited.data, 384, 96, 1)));
      expect(e.originalToken).toBe(next(original.data));
    }
    expect(r.generations).toHaveLength(2);
    expect(r.generations[0]!.edited.split(' ')[0]).toBe(r.generations[0]!.newObject);
  });

  it('unique predictions equal a brute-force count with the engine and an exact SVD (4 samples, k = 0..2)', async () => {
    const world = forgeWorld(FULL_FORGE);
    const params = await loadModel(join(DEMO, 'edited'), world);
    const tok = loadTokenizer({ name: 'tokenizer.json', bytes: readFileSync(join(DEMO, 'base', 'tokenizer.json')) }, { name: 'tokenizer_config.json', bytes: readFileSync(join(DEMO, 'base', 'tokenizer_config.json')) });
    const model = await openTextModel(ort, await openDir(join(DEMO, 'edited')), tok, 0);
    const samples = readFileSync(join(DEMO, 'neutral-samples.txt'), 'utf8').trim().split('\n').slice(0, 4);
    expect(samples.every((s) => s.length >= 50)).toBe(true);
    const got = await uniquePredictions(model, rowMatrix(384, 96, model.storedMatrix), samples, cpuBackend, { maxK: 2 });
    await model.lm.release();
    const w = params.get(mlpOutputName(0))!.data;
    const want = samples.map((s) => {
      const seen = new Set<string>();
      for (let k = 0; k <= 2; k++) {
        const p = new Map(params);
        p.set(mlpOutputName(0), new Tensor(exactBottomRank(w, 384, 96, k), [384, 96], false));
        const tokens = [...promptIds(world.vocab, s)];
        const start = tokens.length;
        for (let i = 0; i < 5; i++) {
          const logits = gpt2Forward(null, world.config, p, Int32Array.from(tokens), 1, tokens.length, { logitRows: Int32Array.from([tokens.length - 1]) }).data;
          tokens.push(logits.indexOf(Math.max(...logits)));
        }
        seen.add(tokens.slice(start).join(' '));
      }
      return seen.size;
    });
    expect(got.perSample).toEqual(want);
  });
});

describe('repaired checkpoint (paper Sec. 7 applied): identical bytes outside the chosen tensor', () => {
  const cases = [
    ['gpt2, F32', { family: 'gpt2', dtype: 'F32' }],
    ['llama (stored [d_model, d_ff]), BF16', { family: 'llama', dtype: 'BF16' }],
    ['gptj, F16, 2 shards', { family: 'gptj', dtype: 'F16', shards: 2 }],
  ] as const;
  for (const [label, spec] of cases) {
    it(label, async () => {
      const fx = buildFixture({ ...spec, layers: 3, dFf: 67, dModel: 29, editedLayer: 1, positiveFraction: 0.85, updateScale: 4 });
      const ck = await openFiles(fx.edited);
      const plan = await planRepair(ck, 1, 1, cpuBackend);
      const name = fx.mlpTensorName(1);
      const info = ck.tensors.get(name)!;
      const input = fx.edited.find((f) => f.name === plan.fileName)!.bytes;
      const out = await collect(patchedChunks(plan.patch));
      expect(out.length).toBe(input.length);
      expect(Buffer.from(out.subarray(0, info.begin)).equals(Buffer.from(input.subarray(0, info.begin)))).toBe(true);
      expect(Buffer.from(out.subarray(info.end)).equals(Buffer.from(input.subarray(info.end)))).toBe(true);
      expect(plan.sharded).toBe(spec.family === 'gptj');
      // The repaired file opens as the same checkpoint, and the tensor is W~(r, 1) in the stored layout.
      const reopened = await openSafetensors(new MemorySource(plan.fileName, out));
      expect(reopened.tensors.get(name)!.dtype).toBe(spec.dtype);
      const stored = new Float32Array(info.shape[0]! * info.shape[1]!);
      decodeToFloat32(spec.dtype, out.subarray(info.begin, info.end), stored, 0);
      const editedRows = new Float32Array(67 * 29);
      decodeToFloat32(spec.dtype, input.subarray(info.begin, info.end), editedRows, 0);
      const rowsOf = (s: Float32Array) => (spec.family === 'gpt2' ? s : Float32Array.from({ length: 67 * 29 }, (_, idx) => s[(idx % 29) * 67 + Math.floor(idx / 29)]!));
      const want = exactBottomRank(rowsOf(editedRows), 67, 29, 1);
      const repaired = rowsOf(stored);
      // Randomized SVD meets 1e-3 relative (its tolerance); 16-bit storage rounds at ~4e-3 (F16) and ~8e-3 (BF16).
      const tolerance = spec.dtype === 'F32' ? 1e-3 : 2e-2;
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(repaired[i]! - want[i]!));
      const scale = Math.max(...Array.from(want, Math.abs));
      expect(worst / scale).toBeLessThan(tolerance);
      // The planted edit is gone: what remains is close to the original matrix (rank-one edit, dominant).
      const originalCk = await openFiles(fx.original);
      const oInfo = originalCk.tensors.get(name)!;
      const originalStored = new Float32Array(stored.length);
      decodeToFloat32(spec.dtype, await oInfo.source.read(oInfo.begin, oInfo.end - oInfo.begin), originalStored, 0);
      let diff = 0;
      let editNorm = 0;
      for (let i = 0; i < stored.length; i++) {
        diff += (stored[i]! - originalStored[i]!) ** 2;
        editNorm += (editedRows[i]! - originalStored[i]!) ** 2;
      }
      expect(Math.sqrt(diff / editNorm)).toBeLessThan(0.2);
    });
  }

  it('with the original given, the layer gets the original bytes exactly', async () => {
    const fx = buildFixture({ family: 'llama', dtype: 'F16', layers: 2, dFf: 40, dModel: 16, editedLayer: 0, positiveFraction: 0.5 });
    const plan = await planRepair(await openFiles(fx.edited), 0, 1, cpuBackend, { original: await openFiles(fx.original) });
    expect(plan.mode).toBe('exact');
    const out = await collect(patchedChunks(plan.patch));
    const originalBytes = fx.original.find((f) => f.name === plan.fileName)!.bytes;
    // Same tensor order and header, so the whole file equals the original.
    expect(Buffer.from(out).equals(Buffer.from(originalBytes))).toBe(true);
  });

  it('k = 0 without an original is refused with a clear message', async () => {
    const fx = buildFixture({ family: 'gpt2', layers: 1, dFf: 20, dModel: 8, editedLayer: 0, positiveFraction: 0.9 });
    await expect(planRepair(await openFiles(fx.edited), 0, 0, cpuBackend)).rejects.toThrow('k must be at least 1');
  });
});

describe('edit bundles from outside (hostile bytes)', () => {
  const bundleWith = (metadata: Record<string, string>, tensors: { name: string; values: Float32Array }[] = []) =>
    new MemorySource('their-edits.safetensors', writeEditBundleRaw(metadata, tensors));
  function writeEditBundleRaw(metadata: Record<string, string>, tensors: { name: string; values: Float32Array }[]): Uint8Array {
    const header: Record<string, unknown> = { __metadata__: metadata };
    let at = 0;
    for (const t of tensors) {
      header[t.name] = { dtype: 'F32', shape: [t.values.length], data_offsets: [at, at + 4 * t.values.length] };
      at += 4 * t.values.length;
    }
    let json = JSON.stringify(header);
    while ((8 + json.length) % 8) json += ' ';
    const out = new Uint8Array(8 + json.length + at);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(new TextEncoder().encode(json), 8);
    let p = 8 + json.length;
    for (const t of tensors) {
      out.set(new Uint8Array(t.values.buffer), p);
      p += 4 * t.values.length;
    }
    return out;
  }
  const meta = { id: 0, relation: 'P1', subject: 'X', prompt: '{} is', trueObject: 'a', newObject: 'b', layer: 0 };
  const cases: [string, MemorySource, string][] = [
    ['not a bundle', bundleWith({ format: 'x' }), 'no "edits" entry'],
    ['edits not JSON', bundleWith({ edits: '[{' }), 'not JSON'],
    ['missing field', bundleWith({ edits: JSON.stringify([{ ...meta, subject: undefined }]) }), 'has no "subject"'],
    ['prompt without {}', bundleWith({ edits: JSON.stringify([{ ...meta, prompt: 'is' }]) }, [{ name: 'edit.0.u', values: new Float32Array(3) }, { name: 'edit.0.lambda', values: new Float32Array(2) }]), 'must contain "{}"'],
    ['missing tensor', bundleWith({ edits: JSON.stringify([meta]) }, [{ name: 'edit.0.u', values: new Float32Array(3) }]), 'no tensor edit.0.lambda'],
    ['duplicate id', bundleWith({ edits: JSON.stringify([meta, meta]) }, [{ name: 'edit.0.u', values: new Float32Array(3) }, { name: 'edit.0.lambda', values: new Float32Array(2) }]), 'appears twice'],
  ];
  for (const [label, source, message] of cases) {
    it(label, async () => {
      const error = await openEditBundle(source).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FormatError);
      expect((error as Error).message).toContain('their-edits.safetensors');
      expect((error as Error).message).toContain(message);
    });
  }

  it("NaN factors and factors of the wrong size are refused when used, naming the file", async () => {
    const bytes = writeEditBundle([{ ...meta, paraphrase: '', mom2Adjustment: false, main: true, metrics: { efficacy: true, paraphrase: 1, neighbourhood: 1, steps: 1, finalLoss: 0, deltaRatio: 1 }, u: Float32Array.of(1, Number.NaN), lambda: Float32Array.of(1) }], {});
    const bundle = await openEditBundle(new MemorySource('nan.safetensors', bytes));
    await expect(bundle.factors(0)).rejects.toThrow('nan.safetensors: tensor "edit.0.u": contains NaN');
    expect(() => applyEdit(rowMatrix(3, 2, new Float32Array(6)), Float32Array.of(1, 2), Float32Array.of(1, 2))).toThrow('belongs to another model');
  });
});
