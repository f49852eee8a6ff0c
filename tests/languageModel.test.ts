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
import { TextSession } from '../src/analysis/textSession';
import { writeSafetensors } from '../src/formats/safetensorsWriter';
import { Tensor } from '../src/edit/engine/tensor';

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

describe.skipIf(!existsSync(join(BASE, 'model.safetensors')))('the worker-side text session (files as the page gives them)', () => {
  it("answers with the model's matrix and with the original's, from one session, each equal to the engine's", async () => {
    const world = forgeWorld(FULL_FORGE);
    const params = await loadModel(BASE, world);
    const files = readdirSync(BASE).map((f) => new File([readFileSync(join(BASE, f))], f));
    // An "original" whose layer-1 matrix differs by a rank-one update (the loaded model plays the edited one).
    const w = params.get(mlpOutputName(1))!;
    const rng = new SeededRandom(12);
    const u = rng.gaussianArray(w.shape[0]!);
    const lambda = rng.gaussianArray(w.shape[1]!);
    const changed = Float32Array.from(w.data, (x, i) => x + 0.3 * u[Math.floor(i / w.shape[1]!)]! * lambda[i % w.shape[1]!]!);
    const tensors = [...params].map(([name, t]) => ({ name, dtype: 'F32' as const, shape: t.shape.length === 1 ? [t.shape[0]!] : [...t.shape], values: name === mlpOutputName(1) ? changed : t.data }));
    const originalFiles = [new File([new Uint8Array(writeSafetensors(tensors, {}))], 'model.safetensors'), new File([readFileSync(join(BASE, 'config.json'))], 'config.json')];
    const session = new TextSession(ort);
    session.setPreference('cpu');
    const info = await session.open({ model: { kind: 'files', files }, original: { kind: 'files', files: originalFiles }, layer: 1 });
    expect(info).toEqual({ family: 'gpt2', layer: 1, hasOriginal: true, executionProvider: 'wasm', threads: 1 }); // Node's test sets numThreads = 1
    const fact = world.kb.facts[7]!;
    const text = prompt(relationById(fact.relation).templates[1]!, fact.subject);
    const ids = promptIds(world.vocab, text);
    const engineTop = (options: Parameters<typeof gpt2Forward>[6]) => argmax(gpt2Forward(null, world.config, params, ids, 1, ids.length, { ...options, logitRows: Int32Array.from([ids.length - 1]) }).data);
    const asModel = await session.complete(text, 'model', { tokens: 1 });
    const asOriginal = await session.complete(text, 'original', { tokens: 1 });
    const again = await session.complete(text, 'model', { tokens: 1 });
    expect(asModel.top[0]!.id).toBe(engineTop({}));
    expect(asOriginal.top[0]!.id).toBe(engineTop({ mlpWeight: { layer: 1, weight: new Tensor(changed, w.shape) } }));
    expect(asModel.top.map((t) => t.probability)).not.toEqual(asOriginal.top.map((t) => t.probability));
    expect(again).toEqual(asModel);
    await expect(session.open({ model: { kind: 'files', files: files.filter((f) => f.name !== 'tokenizer.json') }, original: null, layer: 0 })).rejects.toThrow(/tokenizer\.json/);
  });
});

describe('tokenizer files from the user', () => {
  it('bad tokenizer.json bytes get an error naming the file, never a crash', async () => {
    const { loadTokenizer } = await import('../src/lm/tokenizer');
    const bytes = (text: string) => new TextEncoder().encode(text);
    expect(() => loadTokenizer({ name: 'tokenizer.json', bytes: bytes('{not json') })).toThrow(/tokenizer\.json: is not valid JSON/);
    expect(() => loadTokenizer({ name: 'tokenizer.json', bytes: bytes('[1,2]') })).toThrow(/tokenizer\.json: is not a JSON object/);
    expect(() => loadTokenizer({ name: 'tokenizer.json', bytes: bytes('{"model": {"type": "Nonsense"}}') })).toThrow(/tokenizer\.json/);
    expect(() => loadTokenizer({ name: 'tokenizer.json', bytes: new Uint8Array([0xff, 0xfe, 0x00]) })).toThrow(FormatError);
  });
});
