import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../src/core/random';
import { promptIds } from '../src/edit/factAccuracy';
import { FULL_FORGE } from '../src/edit/forgeConfig';
import { gpt2Forward, mlpOutputName } from '../src/edit/gpt2Model';
import { prompt, relationById } from '../src/edit/knowledgeBase';
import { forgeWorld } from '../src/edit/node/forgeWorld';
import { loadModel } from '../src/edit/node/romeSetup';
import { MemorySource, resolverFromSources } from '../src/formats/byteSource';
import { openCheckpoint } from '../src/formats/checkpoint';
import { FormatError } from '../src/formats/formatError';
import { buildGraph } from '../src/lm/graphs/buildGraph';
import { argmax, LanguageModel, logSoftmax, topK } from '../src/lm/languageModel';

ort.env.wasm.numThreads = 1;
const BASE = 'public/demo/base';

const open = async (dir: string) => {
  const sources = readdirSync(dir).map((f) => new MemorySource(f, new Uint8Array(readFileSync(join(dir, f)))));
  return openCheckpoint(sources, resolverFromSources(sources), dir);
};

describe('topK and logSoftmax', () => {
  it('match a full sort and sum to one', () => {
    const rng = new SeededRandom(3);
    const logits = rng.gaussianArray(101);
    const lp = logSoftmax(logits);
    expect(lp.reduce((a, x) => a + Math.exp(x), 0)).toBeCloseTo(1, 6);
    const sorted = Array.from(lp.keys()).sort((a, b) => lp[b]! - lp[a]!);
    expect(topK(lp, 5).map((t) => t.id)).toEqual(sorted.slice(0, 5));
    expect(argmax(lp)).toBe(sorted[0]);
  });
});

describe.skipIf(!existsSync(join(BASE, 'model.safetensors')))('the demo model in onnxruntime-web (wasm), built from its safetensors', () => {
  it('next-token log-probs within 1e-4 of the engine, batched prompts of mixed lengths, greedy generation equal', async () => {
    const world = forgeWorld(FULL_FORGE);
    const params = await loadModel(BASE, world);
    const built = await buildGraph('gpt2', await open(BASE), 0);
    const lm = await LanguageModel.create(ort, built);
    await lm.setSwap(params.get(mlpOutputName(0))!.data);
    const prompts = world.kb.facts.slice(0, 40).map((f) => promptIds(world.vocab, prompt(relationById(f.relation).templates[0]!, f.subject)));
    const got = await lm.nextTokenLogProbs(prompts);
    prompts.forEach((p, i) => {
      const ref = logSoftmax(gpt2Forward(null, world.config, params, p, 1, p.length, { logitRows: Int32Array.from([p.length - 1]) }).data);
      expect(got[i]!.reduce((m, x, j) => Math.max(m, Math.abs(x - ref[j]!)), 0)).toBeLessThan(1e-4);
    });
    const p0 = prompts[0]!;
    const continuation = await lm.generate(p0, 5);
    const tokens = [...p0];
    for (let i = 0; i < 5; i++) tokens.push(argmax(gpt2Forward(null, world.config, params, Int32Array.from(tokens), 1, tokens.length, { logitRows: Int32Array.from([tokens.length - 1]) }).data));
    expect(continuation).toEqual(tokens.slice(p0.length));
    await lm.release();
  });

  it('says which tensor is missing and which config field, naming the file', async () => {
    const ck = await open(BASE);
    const tensors = new Map(ck.tensors);
    tensors.delete('transformer.h.1.attn.c_attn.weight');
    await expect(buildGraph('gpt2', { ...ck, tensors }, 0)).rejects.toThrow(/transformer\.h\.1\.attn\.c_attn\.weight/);
    const raw = { ...ck.config!.raw };
    delete raw['n_head'];
    await expect(buildGraph('gpt2', { ...ck, config: { ...ck.config!, raw } }, 0)).rejects.toThrow(FormatError);
    await expect(buildGraph('gpt2', { ...ck, config: { ...ck.config!, raw } }, 0)).rejects.toThrow(/config\.json.*n_head/);
    await expect(buildGraph('bloom', ck, 0)).rejects.toThrow(/no graph builder/);
  });
});
