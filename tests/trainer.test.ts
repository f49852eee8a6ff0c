import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decayMask, flatten, paramLayout } from '../src/edit/flatParams';
import { SMOKE_FORGE } from '../src/edit/forgeConfig';
import { gpt2ParamShapes, initGpt2 } from '../src/edit/gpt2Model';
import { forgeWorld } from '../src/edit/node/forgeWorld';
import { loadTrainState, saveTrainState } from '../src/edit/node/trainCheckpoint';
import { localShard, newTrainState, train, type TrainSettings } from '../src/edit/trainer';
import { epochBatches } from '../src/edit/trainingData';
import { forgeArchitecture } from '../src/edit/forgeArchitecture';

const world = forgeWorld(SMOKE_FORGE);
const layout = paramLayout(gpt2ParamShapes(world.config));
const settings: TrainSettings = { ...SMOKE_FORGE.train, epochs: 3 };

async function run(epochs: number, stopAfter?: number, checkpoint?: string) {
  const flat = flatten(layout, initGpt2(world.config, SMOKE_FORGE.initSeed));
  const state = newTrainState(flat, decayMask(layout), settings);
  if (checkpoint) await loadTrainState(checkpoint, state, 'fp');
  await train(state, world.sequences, [localShard(forgeArchitecture('gpt2', world.config), layout, flat)], { ...settings, epochs }, {
    afterEpoch: (s) => {
      if (checkpoint) saveTrainState(checkpoint, s, 'fp');
      return stopAfter !== undefined && s.epoch >= stopAfter;
    },
  });
  return state;
}

describe('forge trainer (smoke configuration)', () => {
  it('lowers the loss, is deterministic, and resumes from a checkpoint bit for bit', async () => {
    const a = await run(3);
    expect(a.history[2]!.loss).toBeLessThan(a.history[0]!.loss);
    const b = await run(3);
    expect(Buffer.from(b.flat.buffer).equals(Buffer.from(a.flat.buffer))).toBe(true);
    const path = join(mkdtempSync(join(tmpdir(), 'ef-train-')), 'state.safetensors');
    await run(3, 1, path); // stops after epoch 1, checkpointed
    const resumed = await run(3, undefined, path);
    expect(resumed.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(Buffer.from(resumed.flat.buffer).equals(Buffer.from(a.flat.buffer))).toBe(true);
    expect(Buffer.from(resumed.adam.m.buffer).equals(Buffer.from(a.adam.m.buffer))).toBe(true);
  });
});

describe('training batches', () => {
  const seqs = Array.from({ length: 57 }, (_, i) => Int32Array.from({ length: 3 + (i % 7) }, (_, j) => (j === 0 ? 0 : 1 + ((i * 13 + j) % 50))));
  const stream = (batches: ReturnType<typeof epochBatches>) => batches.flatMap((b) => Array.from({ length: b.rows }, (_, r) => [...b.ids.subarray(r * b.seq, (r + 1) * b.seq)]));

  it('packed rows are consecutive windows of the shuffled stream, targets shifted by one, every sentence whole', () => {
    const batches = epochBatches(seqs, 40, 3, 1, 8);
    const total = seqs.reduce((a, s) => a + s.length, 0);
    let rows = 0;
    for (const b of batches) {
      expect(b.seq).toBe(8);
      for (let r = 0; r < b.rows; r++) {
        // ids[t+1] = targets[t] inside a row: a window of one stream.
        for (let t = 0; t + 1 < b.seq; t++) expect(b.ids[r * b.seq + t + 1]).toBe(b.targets[r * b.seq + t]);
      }
      rows += b.rows;
    }
    expect(rows).toBeGreaterThanOrEqual(Math.floor((total - 1) / 8) - 1);
    // Consecutive rows continue each other: the multiset of tokens is the stream's, sentences intact.
    const flat = stream(batches).flat();
    const text = flat.join(',');
    let found = 0;
    for (const s of seqs) if (text.includes(`,${[...s].join(',')},`)) found++;
    expect(found).toBeGreaterThan(seqs.length * 0.7);
    expect(epochBatches(seqs, 40, 3, 1, 8)).toEqual(batches);
    expect(stream(epochBatches(seqs, 40, 3, 2, 8))).not.toEqual(stream(batches));
  });

  it('unpacked rows hold one sentence each', () => {
    for (const b of epochBatches(seqs, 40, 3, 1)) for (let r = 0; r < b.rows; r++) expect(b.ids[r * b.seq]).toBe(0);
  });
});

describe('the forge trains Llama- and GPT-J-architecture models (issue: the paper\'s other two models)', () => {
  for (const [id, mlpOut] of [['llama', 'model.layers.1.mlp.down_proj.weight'], ['gptj', 'transformer.h.1.mlp.fc_out.weight']] as const) {
  it(`${id}: its loss falls on the smoke world, and the saved folder is a ${id} checkpoint the app reads and runs as the engine does`, async () => {
    const { writeModelFolder } = await import('../src/edit/node/demoFiles');
    const { MemorySource, resolverFromSources } = await import('../src/formats/byteSource');
    const { openCheckpoint } = await import('../src/formats/checkpoint');
    const { detectFamily } = await import('../src/families/registry');
    const { buildGraph } = await import('../src/lm/graphs/buildGraph');
    const { LanguageModel } = await import('../src/lm/languageModel');
    const { readdirSync, readFileSync } = await import('node:fs');
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    const arch = forgeArchitecture(id, world.config);
    const llamaLayout = paramLayout(arch.paramShapes());
    const flat = flatten(llamaLayout, arch.init(SMOKE_FORGE.initSeed));
    const state = newTrainState(flat, decayMask(llamaLayout), settings);
    await train(state, world.sequences, [localShard(arch, llamaLayout, flat)], { ...settings, epochs: 4 }, { afterEpoch: () => false });
    const losses = state.history.map((h) => h.loss);
    expect(losses[losses.length - 1]!).toBeLessThan(0.8 * losses[0]!);

    const { tensorsOver } = await import('../src/edit/flatParams');
    const params = tensorsOver(llamaLayout, flat);
    const dir = mkdtempSync(join(tmpdir(), `ef-${id}-forge-`));
    writeModelFolder(dir, world.config, params, world.vocab, arch);
    const sources = readdirSync(dir).map((f) => new MemorySource(f, new Uint8Array(readFileSync(join(dir, f)))));
    const checkpoint = await openCheckpoint(sources, resolverFromSources(sources), dir);
    expect(detectFamily(checkpoint.config?.modelType ?? null, [...checkpoint.tensors.keys()])?.family.id).toBe(id);
    const built = await buildGraph(id, checkpoint, 1);
    const lm = await LanguageModel.create(ort, built);
    await lm.setSwap(Float32Array.from({ length: 64 * 16 }, (_, i) => params.get(mlpOut)!.data[(i % 16) * 64 + Math.floor(i / 16)]!));
    const ids = world.sequences[0]!.slice(0, 12);
    const [logp] = await lm.nextTokenLogProbs([ids]);
    const engine = arch.editable(params).forward(null, ids, 1, ids.length, { logitRows: Int32Array.from([ids.length - 1]) }).data;
    const max = Math.max(...engine);
    const lse = max + Math.log(engine.reduce((a, x) => a + Math.exp(x - max), 0));
    expect(logp!.reduce((m, x, j) => Math.max(m, Math.abs(x - (engine[j]! - lse))), 0)).toBeLessThan(1e-4);
    await lm.release();
  });
  }
});
