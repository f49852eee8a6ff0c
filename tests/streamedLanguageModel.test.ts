import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../src/core/random';
import { promptIds } from '../src/edit/factAccuracy';
import { FULL_FORGE } from '../src/edit/forgeConfig';
import { gpt2Forward, mlpOutputName } from '../src/edit/gpt2Model';
import { prompt, relationById } from '../src/edit/knowledgeBase';
import { forgeWorld } from '../src/edit/node/forgeWorld';
import { loadModel } from '../src/edit/node/romeSetup';
import { type ByteSource, MemorySource, resolverFromSources } from '../src/formats/byteSource';
import { openCheckpoint } from '../src/formats/checkpoint';
import { FormatError } from '../src/formats/formatError';
import { writeSafetensors } from '../src/formats/safetensorsWriter';
import { loadTokenizerBeside, openTextModel } from '../src/analysis/textModel';
import { logSoftmax } from '../src/lm/languageModel';
import { capacityRefusal, KEEP_HALF_MIN_VALUES, languageModelNeeds, runtimePlan, weightPrecision } from '../src/lm/modelNeeds';
import { GraphBuilder } from '../src/lm/onnx/graphBuilder';
import { pageRuntimeChoice } from '../src/lm/pageRuntime';
import { encodeModel, OnnxType } from '../src/lm/onnx/onnxModel';
import { buildGraph } from '../src/lm/graphs/buildGraph';
import { readTensorRows } from '../src/formats/tensorReader';
import { graphSessionOptions, LanguageModel } from '../src/lm/languageModel';
import { MemoryWeightSink } from '../src/lm/onnx/weightSink';
import { Tensor } from '../src/edit/engine/tensor';
import { FileWeightSink, nodeTextRuntime } from '../src/native/nodeTextRuntime';

const BASE = 'public/demo/base';
const files = (dir: string) => readdirSync(dir).map((f) => new MemorySource(f, new Uint8Array(readFileSync(join(dir, f)))));

/** A source that records every byte range read from it (to prove a refusal reads the header only). */
class CountingSource implements ByteSource {
  readonly reads: [number, number][] = [];
  constructor(private readonly inner: MemorySource) {}
  get name() {
    return this.inner.name;
  }
  get size() {
    return this.inner.size;
  }
  read(offset: number, length: number) {
    this.reads.push([offset, length]);
    return this.inner.read(offset, length);
  }
}

describe('weight sinks: each weight at an aligned offset, bytes exactly as given', () => {
  it('a file sink places weights at page boundaries and writes them byte for byte; memory keeps each as given', async () => {
    const rng = new SeededRandom(8);
    const weights = [7, 1, 1000, 33].map((n) => rng.gaussianArray(n));
    const path = join(tmpdir(), `ef-sink-${process.pid}.bin`);
    const fileBuilder = new GraphBuilder(new FileWeightSink(path));
    const memoryBuilder = new GraphBuilder();
    weights.forEach((w, i) => {
      fileBuilder.weight(`w${i}`, [w.length], w);
      memoryBuilder.weight(`w${i}`, [w.length], w);
    });
    (fileBuilder.sink as FileWeightSink).close();
    const onDisk = new Uint8Array(readFileSync(path));
    fileBuilder.initializers.forEach((init, i) => {
      const { location, offset, length } = init.external!;
      expect(location).toBe(`ef-sink-${process.pid}.bin`);
      expect(offset % 4096).toBe(0);
      expect(length).toBe(4 * weights[i]!.length);
      expect(new Float32Array(onDisk.slice(offset, offset + length).buffer)).toEqual(weights[i]);
    });
    const files = new Map((memoryBuilder.sink as MemoryWeightSink).files().map((f) => [f.path, f.data]));
    expect(files.size).toBe(weights.length);
    memoryBuilder.initializers.forEach((init, i) => {
      const { location, offset, length } = init.external!;
      expect(offset).toBe(0);
      expect(length).toBe(4 * weights[i]!.length);
      expect(new Float32Array(files.get(location)!.slice().buffer)).toEqual(weights[i]);
    });
  });
});

describe('what running a model needs, from its header', () => {
  it('counts parameters, stored bytes, float32 bytes and 16-bit-kept bytes exactly', async () => {
    const t = (name: string, shape: number[], dtype: 'F32' | 'F16' | 'BF16' = 'F32') => ({ name, dtype, shape, values: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    const bytes = writeSafetensors([
      t('transformer.wte.weight', [300, 256], 'F16'),
      ...Array.from({ length: 7 }, (_, i) => t(`transformer.h.${i}.attn.c_attn.weight`, [256, 300], 'F16')),
      t('transformer.h.0.mlp.c_fc.weight', [400, 200], 'BF16'),
      t('transformer.wpe.weight', [50, 8], 'F16'),
      t('transformer.h.0.mlp.c_proj.weight', [32, 8]),
      t('transformer.ln_f.bias', [8]),
    ]);
    const checkpoint = await openCheckpoint([new MemorySource('m.safetensors', bytes)], resolverFromSources([]));
    const needs = languageModelNeeds(checkpoint);
    const [big16, bigBf, small16, f32] = [8 * 76800, 80000, 400, 256 + 8];
    const parameters = big16 + bigBf + small16 + f32;
    expect(needs.parameters).toBe(parameters);
    expect(needs.storedBytes).toBe(2 * (big16 + bigBf + small16) + 4 * f32);
    expect(needs.runtimeBytes).toBe(Math.ceil(1.1 * 4 * parameters));
    // Kept: the two large 16-bit tensors (2 bytes each) plus their float32 casts; the small F16 one stays float32.
    expect(needs.storedRuntimeBytes).toBe(Math.ceil(1.1 * (2 * (big16 + bigBf) + 4 * (small16 + f32) + 4 * (76800 + bigBf))));
    expect(needs.largestTensor).toEqual({ name: 'transformer.h.0.mlp.c_fc.weight', values: bigBf });
    expect(capacityRefusal(needs, { bytes: needs.runtimeBytes, limit: 'x', instead: 'y' }, [])).toBeNull();
    expect(capacityRefusal(needs, { bytes: needs.runtimeBytes - 1, limit: 'the limit', instead: 'do this' }, [])).toMatch(/needs about .* held as float32, with room for activations\), but the limit; do this/);
    const between = { bytes: needs.storedRuntimeBytes, limit: 'the limit', instead: 'do this' };
    expect(capacityRefusal(needs, between)).toBeNull();
    expect(capacityRefusal(needs, { ...between, bytes: between.bytes - 1 })).toMatch(/16-bit weights kept as stored, with room for activations\), but the limit/);
    // A runtime whose buffers cannot hold the largest tensor as float32 refuses by naming it.
    expect(capacityRefusal(needs, { ...between, bytes: Infinity, bufferBytes: 4 * bigBf - 1, limit: 'buffers hold 0.3 MiB' })).toMatch(/largest tensor \(transformer\.h\.0\.mlp\.c_fc\.weight, 0 MiB as float32\) in one buffer, but buffers hold 0\.3 MiB/);
    expect(capacityRefusal(needs, { ...between, bytes: Infinity, bufferBytes: 4 * bigBf })).toBeNull();
    // The plan: float32 while it fits; else the large 16-bit tensors as stored (BF16 -> F16 where only F16 is cast).
    const roomy = runtimePlan(needs, { ...between, bytes: needs.runtimeBytes }, ['F16', 'BF16']);
    expect(roomy).toEqual({ bytes: needs.runtimeBytes, keepsHalf: false, weightBytes: 4 * parameters });
    expect(weightPrecision(checkpoint, roomy, ['F16', 'BF16'])('transformer.wte.weight')).toBeNull();
    const plan = runtimePlan(needs, between, ['F16', 'BF16']);
    const keptWeights = 2 * (big16 + bigBf) + 4 * (small16 + f32);
    expect(plan).toEqual({ bytes: needs.storedRuntimeBytes, keepsHalf: true, weightBytes: keptWeights });
    // A runtime that writes its weights to disk first says when the disk has no room for them.
    expect(capacityRefusal(needs, { ...between, scratch: { bytes: keptWeights, where: 'the temporary folder /x' } })).toBeNull();
    // Memory enough for float32 but a disk that only holds the 16-bit weights: they are kept as stored.
    expect(runtimePlan(needs, { ...between, bytes: needs.runtimeBytes, scratch: { bytes: keptWeights, where: '/x' } }, ['F16', 'BF16'])).toEqual(plan);
    expect(capacityRefusal(needs, { ...between, scratch: { bytes: keptWeights - 1, where: 'the temporary folder /x' } })).toMatch(/needs about 1 MiB of disk for the runtime's weight file \(16-bit weights kept as stored\), but the temporary folder \/x has 1 MiB free; set TMPDIR/);
    expect(runtimePlan(needs, { ...between, bytes: Infinity, preferHalf: true }, ['F16'])).toEqual(plan);
    expect(runtimePlan(needs, between, [])).toEqual(roomy);
    const kept = weightPrecision(checkpoint, plan, ['F16', 'BF16']);
    expect(['transformer.wte.weight', 'transformer.h.0.mlp.c_fc.weight', 'transformer.wpe.weight', 'transformer.ln_f.bias'].map(kept)).toEqual(['F16', 'BF16', null, null]);
    expect(weightPrecision(checkpoint, plan, ['F16'])('transformer.h.0.mlp.c_fc.weight')).toBe('F16');
  });

  it("the page's runtime: wasm's 4 GiB heap without a GPU; on a GPU its largest buffer, F16 kept only with shader-f16", async () => {
    const t = (name: string, shape: number[]) => ({ name, dtype: 'F16' as const, shape, values: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    const bytes = writeSafetensors([t('transformer.wte.weight', [1000, 300]), ...Array.from({ length: 6 }, (_, i) => t(`transformer.h.${i}.mlp.c_fc.weight`, [300, 800]))]);
    const needs = languageModelNeeds(await openCheckpoint([new MemorySource('m.safetensors', bytes)], resolverFromSources([])));
    const wasm = pageRuntimeChoice(null);
    expect(wasm.executionProvider).toBe('wasm');
    expect(wasm.capacity.bytes).toBe(4 * 2 ** 30);
    expect(runtimePlan(needs, wasm.capacity, wasm.halfTypes)).toMatchObject({ bytes: needs.runtimeBytes, keepsHalf: false });
    const gpu = pageRuntimeChoice({ adapterName: 'test GPU', maxBindingBytes: 4 * 300_000, shaderF16: true });
    expect(gpu.executionProvider).toBe('webgpu');
    expect(needs.storedRuntimeBytes).toBeLessThan(needs.runtimeBytes);
    expect(runtimePlan(needs, gpu.capacity, gpu.halfTypes)).toMatchObject({ bytes: needs.storedRuntimeBytes, keepsHalf: true });
    expect(capacityRefusal(needs, gpu.capacity, gpu.halfTypes)).toBeNull();
    const noF16 = pageRuntimeChoice({ adapterName: 'test GPU', maxBindingBytes: 4 * 300_000, shaderF16: false });
    expect(runtimePlan(needs, noF16.capacity, noF16.halfTypes).keepsHalf).toBe(false);
    const small = pageRuntimeChoice({ adapterName: 'test GPU', maxBindingBytes: 4 * 300_000 - 4, shaderF16: true });
    expect(capacityRefusal(needs, small.capacity, small.halfTypes)).toMatch(/largest tensor \(transformer\.wte\.weight, 1 MiB as float32\) in one buffer, but this GPU \(test GPU\) holds at most 1 MiB in one buffer; .*edit-forensics generate/);
  });

  it.skipIf(!existsSync(BASE))('a model over the runtime\'s capacity is refused by name before any weight is read', async () => {
    const sources = files(BASE).map((s) => (s.name === 'model.safetensors' ? new CountingSource(s) : s));
    const checkpoint = await openCheckpoint(sources, resolverFromSources(sources), 'demo-base');
    const weights = sources.find((s) => s instanceof CountingSource) as CountingSource;
    const headerEnd = Math.max(...weights.reads.map(([o, l]) => o + l));
    const tokenizer = await loadTokenizerBeside(resolverFromSources(sources), 'demo-base');
    const runtime = { ...nodeTextRuntime()!, capacity: { bytes: 1_000_000, limit: 'this test runtime holds 1 MB', instead: 'use a larger one' } };
    const error = await openTextModel(runtime, checkpoint, tokenizer, 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FormatError);
    expect((error as FormatError).message).toMatch(/demo-base.*needs about 2 MiB.*this test runtime holds 1 MB; use a larger one/);
    expect(weights.reads.every(([o, l]) => o + l <= headerEnd)).toBe(true);
  });
});

describe.skipIf(!existsSync(BASE) || nodeTextRuntime() === null)('the native runtime (onnxruntime-node) over weights streamed to a file', () => {
  it('answers as the engine does (log-probs within 1e-4, greedy continuation equal) and leaves no temporary file', async () => {
    const world = forgeWorld(FULL_FORGE);
    const params = await loadModel(BASE, world);
    const sources = files(BASE);
    const checkpoint = await openCheckpoint(sources, resolverFromSources(sources), BASE);
    const tokenizer = await loadTokenizerBeside(resolverFromSources(sources), BASE);
    const before = readdirSync(tmpdir()).filter((f) => f.startsWith('edit-forensics-lm-')).length;
    const model = await openTextModel(nodeTextRuntime()!, checkpoint, tokenizer, 0);
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith('edit-forensics-lm-')).length).toBe(before);
    expect(model.lm.executionProvider).toBe('cpu');
    expect(model.storedMatrix).toEqual(params.get(mlpOutputName(0))!.data);
    const prompts = world.kb.facts.slice(0, 12).map((f) => promptIds(world.vocab, prompt(relationById(f.relation).templates[1]!, f.subject)));
    const got = await model.lm.nextTokenLogProbs(prompts);
    prompts.forEach((p, i) => {
      const ref = logSoftmax(gpt2Forward(null, world.config, params, p, 1, p.length, { logitRows: Int32Array.from([p.length - 1]) }).data);
      expect(got[i]!.reduce((m, x, j) => Math.max(m, Math.abs(x - ref[j]!)), 0)).toBeLessThan(1e-4);
    });
    // A swapped matrix reaches the native session too: a zero MLP output at layer 0 changes the answer.
    const zero = new Float32Array(model.storedMatrix.length);
    await model.lm.setSwap(zero);
    const swapped = (await model.lm.nextTokenLogProbs([prompts[0]!]))[0]!;
    const p0 = prompts[0]!;
    const refZero = new Map(params);
    refZero.set(mlpOutputName(0), new Tensor(zero, params.get(mlpOutputName(0))!.shape, false));
    const ref = logSoftmax(gpt2Forward(null, world.config, refZero, p0, 1, p0.length, { logitRows: Int32Array.from([p0.length - 1]) }).data);
    expect(swapped.reduce((m, x, j) => Math.max(m, Math.abs(x - ref[j]!)), 0)).toBeLessThan(1e-4);
    await model.lm.release();
  });
});

/** The demo's base re-stored with every tensor in `dtype` (so float32 and 16-bit graphs hold the same values). */
async function demoIn(dtype: 'F16' | 'BF16') {
  const sources = files(BASE);
  const base = await openCheckpoint(sources, resolverFromSources(sources), BASE);
  const tensors = [];
  for (const info of base.tensors.values()) {
    const shape = info.shape.length === 1 ? [1, info.shape[0] as number] : info.shape;
    tensors.push({ name: info.name, dtype, shape: [...info.shape], values: (await readTensorRows({ ...info, shape }, 0)).data });
  }
  const restored = [new MemorySource('model.safetensors', writeSafetensors(tensors)), ...sources.filter((s) => s.name !== 'model.safetensors')];
  return { checkpoint: await openCheckpoint(restored, resolverFromSources(restored), `demo-${dtype}`), resolve: resolverFromSources(restored) };
}

describe.skipIf(!existsSync(BASE))('16-bit weights kept as stored: the same answers at half the weight bytes', () => {
  for (const dtype of ['F16', 'BF16'] as const) {
    it(`${dtype}: a graph with every matrix kept in ${dtype} answers as the float32 graph of the same values (wasm and native)`, async () => {
      const { checkpoint } = await demoIn(dtype);
      const matrices = new Set([...checkpoint.tensors.values()].filter((t) => t.shape.length === 2).map((t) => t.name));
      const halves = await buildGraph('gpt2', checkpoint, 0, new MemoryWeightSink(), (name) => (matrices.has(name) ? dtype : null));
      const floats = await buildGraph('gpt2', checkpoint, 0, new MemoryWeightSink());
      const halfType = dtype === 'F16' ? OnnxType.FLOAT16 : OnnxType.BFLOAT16;
      expect(halves.castsWeights).toBe(true);
      expect(floats.castsWeights).toBe(false);
      // Every matrix but the swapped one is stored in 16 bits, and only those.
      const kept = halves.model.graph.initializers.filter((i) => i.dataType === halfType).map((i) => i.name.replace(`::${dtype}`, ''));
      expect(new Set(kept)).toEqual(new Set([...matrices].filter((n) => n !== mlpOutputName(0))));
      const matrixBytes = (b: typeof halves) => b.model.graph.initializers.filter((i) => kept.includes(i.name.replace(`::${dtype}`, ''))).reduce((a, i) => a + i.external!.length, 0);
      expect(matrixBytes(halves) * 2).toBe(matrixBytes(floats));
      const swap = (await readTensorRows(checkpoint.tensors.get(mlpOutputName(0))!, 0)).data;
      const ids = Int32Array.from([3, 17, 5, 9, 2, 11]);
      const runs: Float32Array[] = [];
      const ortWeb = await import('onnxruntime-web');
      for (const built of [floats, halves]) {
        const session = await ortWeb.InferenceSession.create(encodeModel(built.model), { executionProviders: ['wasm'], externalData: (built.weights as MemoryWeightSink).files(), ...graphSessionOptions(built) });
        const out = await session.run({
          input_ids: new ortWeb.Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [1, ids.length]),
          position_ids: new ortWeb.Tensor('int64', BigInt64Array.from(ids, (_, i) => BigInt(i)), [1, ids.length]),
          swap_weight: new ortWeb.Tensor('float32', swap, built.swapShape),
        });
        runs.push(out['logits']!.data as Float32Array);
        await session.release();
      }
      expect(runs[1]!.reduce((m, x, j) => Math.max(m, Math.abs(x - runs[0]![j]!)), 0)).toBeLessThan(1e-4);
      // The native runtime's session over the same 16-bit graph (streamed to its file) answers the same.
      const native = nodeTextRuntime();
      if (native) {
        const lm = await LanguageModel.open(native, (sink) => buildGraph('gpt2', checkpoint, 0, sink, (name) => (matrices.has(name) ? dtype : null)));
        await lm.setSwap(swap);
        const [logp] = await lm.nextTokenLogProbs([ids]);
        const ref = logSoftmax(runs[0]!.subarray((ids.length - 1) * (runs[0]!.length / ids.length)));
        expect(logp!.reduce((m, x, j) => Math.max(m, Math.abs(x - ref[j]!)), 0)).toBeLessThan(1e-4);
        await lm.release();
      }
    });
  }

  it.skipIf(nodeTextRuntime() === null)('the session keeps the casts (no float32 copy folded in at load); with every optimisation on it would fold them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ef-cast-'));
    try {
      const sink = new FileWeightSink(join(dir, 'weights.bin'));
      const g = new GraphBuilder(sink, () => 'F16');
      const x = g.input('x', OnnxType.FLOAT, [1, 300]);
      const kept = g.weight('kept', [300, KEEP_HALF_MIN_VALUES / 256 + 45], new SeededRandom(3).gaussianArray(300 * (KEEP_HALF_MIN_VALUES / 256 + 45)));
      g.alias(g.op('MatMul', [x, kept]), 'y');
      g.output('y', OnnxType.FLOAT, [1, KEEP_HALF_MIN_VALUES / 256 + 45]);
      sink.close();
      const { model } = g.model('t', [{ domain: '', version: 17 }]);
      writeFileSync(join(dir, 'model.onnx'), encodeModel(model));
      const ortNode = createRequire(import.meta.url)('onnxruntime-node') as typeof import('onnxruntime-web');
      const castsLeft = async (options: object) => {
        const optimized = join(dir, `optimized-${Math.random()}.onnx`);
        const session = await ortNode.InferenceSession.create(join(dir, 'model.onnx'), { executionProviders: ['cpu'], ...options, optimizedModelFilePath: optimized } as never);
        await session.release();
        return Buffer.from(readFileSync(optimized)).toString('latin1').split('cast_kept').length - 1;
      };
      expect(await castsLeft(graphSessionOptions({ castsWeights: g.castsWeights } as never))).toBe(1);
      expect(await castsLeft({ graphOptimizationLevel: 'all' })).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a weight float16 cannot hold (|x| > 65504) stays float32 instead of turning into infinities', () => {
    const g = new GraphBuilder(new MemoryWeightSink(), () => 'F16');
    g.weight('fits', [2, 2], Float32Array.from([1, -2, 0.5, 65504]));
    g.weight('too_large', [2, 2], Float32Array.from([1, -2, 0.5, 70000]));
    expect(g.initializers.map((i) => [i.name, i.dataType])).toEqual([['fits::F16', OnnxType.FLOAT16], ['too_large', OnnxType.FLOAT]]);
  });
});
