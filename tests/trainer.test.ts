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

const world = forgeWorld(SMOKE_FORGE);
const layout = paramLayout(gpt2ParamShapes(world.config));
const settings: TrainSettings = { ...SMOKE_FORGE.train, epochs: 3 };

async function run(epochs: number, stopAfter?: number, checkpoint?: string) {
  const flat = flatten(layout, initGpt2(world.config, SMOKE_FORGE.initSeed));
  const state = newTrainState(flat, decayMask(layout), settings);
  if (checkpoint) await loadTrainState(checkpoint, state, 'fp');
  await train(state, world.sequences, [localShard(world.config, layout, flat)], { ...settings, epochs }, {
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
