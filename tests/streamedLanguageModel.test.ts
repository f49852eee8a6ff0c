import { existsSync, readdirSync, readFileSync } from 'node:fs';
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
import { capacityRefusal, languageModelNeeds } from '../src/lm/modelNeeds';
import { GraphBuilder } from '../src/lm/onnx/graphBuilder';
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
  it('a file sink places weights at page boundaries and writes them byte for byte; memory at 64', async () => {
    const rng = new SeededRandom(8);
    const weights = [7, 1, 1000, 33].map((n) => rng.gaussianArray(n));
    const path = join(tmpdir(), `ef-sink-${process.pid}.bin`);
    const fileBuilder = new GraphBuilder('weights.bin', new FileWeightSink(path));
    const memoryBuilder = new GraphBuilder();
    weights.forEach((w, i) => {
      fileBuilder.weight(`w${i}`, [w.length], w);
      memoryBuilder.weight(`w${i}`, [w.length], w);
    });
    (fileBuilder.sink as FileWeightSink).close();
    const onDisk = new Uint8Array(readFileSync(path));
    const inMemory = (memoryBuilder.sink as MemoryWeightSink).bytes();
    for (const [builder, bytes, alignment] of [[fileBuilder, onDisk, 4096], [memoryBuilder, inMemory, 64]] as const) {
      builder.initializers.forEach((init, i) => {
        const { offset, length } = init.external!;
        expect(offset % alignment).toBe(0);
        expect(length).toBe(4 * weights[i]!.length);
        expect(new Float32Array(bytes.slice(offset, offset + length).buffer)).toEqual(weights[i]);
      });
    }
  });
});

describe('what running a model needs, from its header', () => {
  it('counts parameters, stored bytes and float32 bytes (a tied embedding twice) exactly', async () => {
    const t = (name: string, shape: number[], dtype: 'F32' | 'F16' = 'F32') => ({ name, dtype, shape, values: new Float32Array(shape.reduce((a, b) => a * b, 1)) });
    const bytes = writeSafetensors([t('transformer.wte.weight', [50, 8], 'F16'), t('transformer.h.0.mlp.c_proj.weight', [32, 8]), t('transformer.ln_f.bias', [8])]);
    const checkpoint = await openCheckpoint([new MemorySource('m.safetensors', bytes)], resolverFromSources([]));
    const needs = languageModelNeeds(checkpoint);
    const parameters = 400 + 256 + 8;
    expect(needs.parameters).toBe(parameters);
    expect(needs.storedBytes).toBe(2 * 400 + 4 * (256 + 8));
    expect(needs.runtimeBytes).toBe(Math.ceil(1.1 * 4 * (parameters + 400)));
    expect(capacityRefusal(needs, { bytes: needs.runtimeBytes, limit: 'x', instead: 'y' })).toBeNull();
    expect(capacityRefusal(needs, { bytes: needs.runtimeBytes - 1, limit: 'the limit', instead: 'do this' })).toMatch(/needs about .* held as float32 with room for activations\), but the limit; do this/);
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
