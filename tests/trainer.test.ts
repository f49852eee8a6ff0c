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
