import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EditSession, type EditSource } from '../src/analysis/editSession';
import { checkEditSpec, type EditSpec, editsFromParam, editsToParam, MAX_EDITS } from '../src/analysis/editSpec';
import { robustCholesky } from '../src/core/cholesky';
import { CONTEXT_TEMPLATE_SEED, contextTemplates, parseTemplateLengths } from '../src/edit/contextTemplates';
import { openEditBundle } from '../src/edit/editBundle';
import { FULL_FORGE } from '../src/edit/forgeConfig';
import { frozen } from '../src/edit/gpt2Model';
import { loadModel } from '../src/edit/node/romeSetup';
import { forgeWorld } from '../src/edit/node/forgeWorld';
import { rome, ROME_DEFAULTS } from '../src/edit/rome';
import { type RomeTokenizer, subjectPrompt, wordRomeTokenizer } from '../src/edit/romeTokenizer';
import { MemorySource } from '../src/formats/byteSource';
import { FormatError } from '../src/formats/formatError';
import { openSafetensors } from '../src/formats/safetensors';
import { patchedChunks } from '../src/formats/tensorPatch';
import { buildFixture } from './fixtures/syntheticCheckpoint';
import { gpt2Editable } from '../src/edit/editableModel';

/** The Edit tab's engine (analysis/editSession) on the committed demo, checked against independent constructions. */
const file = (path: string) => new File([readFileSync(path)], path.split('/').pop() as string);
const demoModel = () => ['model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json'].map((n) => file(`public/demo/base/${n}`));
const demoSource = (stats = true): EditSource => ({
  model: { kind: 'files', files: demoModel() },
  corpus: { kind: 'file', file: file('public/demo/mom2-corpus.txt') },
  stats: stats ? { kind: 'file', file: file('public/demo/mom2-stats.safetensors') } : null,
  facts: { kind: 'file', file: file('public/demo/facts.json') },
});
const spec = (target: string, settings: Partial<EditSpec['settings']> = {}): EditSpec => ({
  subject: 'Nils Em Da',
  prompt: '{} is a citizen of',
  target,
  settings: { layer: 0, mom2Adjustment: true, vSteps: 20, vLr: 0.5, strength: 1, contextTemplates: '5x5,10x5', ...settings },
});

async function bytesOf(session: EditSession): Promise<Uint8Array> {
  const plan = await session.plan();
  const parts: Uint8Array[] = [];
  for (const patch of plan.patches) for await (const chunk of patchedChunks(patch)) parts.push(chunk);
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

describe('the editor (ROME in the page)', () => {
  let session: EditSession;
  let baseWeight: Float32Array;
  beforeAll(async () => {
    session = new EditSession();
    await session.open(demoSource());
    const st = await openSafetensors(new MemorySource('model.safetensors', readFileSync('public/demo/base/model.safetensors')));
    const info = st.tensors.get('transformer.h.0.mlp.c_proj.weight')!;
    const b = readFileSync('public/demo/base/model.safetensors').subarray(info.begin, info.end);
    baseWeight = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  });

  it('writes the fact: the edit prompt and its paraphrases answer the new object', async () => {
    const out = await session.edit(spec('France'));
    expect(out.checks[0]).toMatchObject({ kind: 'edit prompt', ok: true });
    expect(out.checks[0]!.before.token).toBe('Germany');
    expect(out.checks.filter((c) => c.kind === 'paraphrase').every((c) => c.ok)).toBe(true);
    expect(out.checks.filter((c) => c.kind === 'neighbour')).toHaveLength(5);
    expect(out.losses.length).toBe(out.steps);
    expect(out.losses[out.losses.length - 1]).toBeLessThan(out.losses[0]!);
  });

  it('the edited layer is W + u lambda^T of the bundle it writes (a brute-force rank-one update), every other layer untouched', async () => {
    const [{ layer, weight }] = session.changedLayers() as [{ layer: number; weight: Float32Array }];
    expect(layer).toBe(0);
    const bundle = await openEditBundle(new MemorySource('edits.safetensors', session.bundle()));
    const { u, lambda } = await bundle.factors(0);
    const d = lambda.length;
    let worst = 0;
    for (let i = 0; i < u.length; i++) for (let j = 0; j < d; j++) worst = Math.max(worst, Math.abs(weight[i * d + j]! - Math.fround(baseWeight[i * d + j]! + u[i]! * lambda[j]!)));
    expect(worst).toBe(0);
    expect(bundle.edits[0]).toMatchObject({ subject: 'Nils Em Da', trueObject: 'Germany', newObject: 'France', relation: 'P27', layer: 0, mom2Adjustment: true });
  });

  it('the edited checkpoint equals the input outside the tensor, and its tensor holds the edited weights', async () => {
    const input = readFileSync('public/demo/base/model.safetensors');
    const output = await bytesOf(session);
    expect(output.length).toBe(input.length);
    const st = await openSafetensors(new MemorySource('x', input));
    const info = st.tensors.get('transformer.h.0.mlp.c_proj.weight')!;
    expect(Buffer.compare(output.subarray(0, info.begin), input.subarray(0, info.begin))).toBe(0);
    expect(Buffer.compare(output.subarray(info.end), input.subarray(info.end))).toBe(0);
    const stored = output.slice(info.begin, info.end);
    expect(new Float32Array(stored.buffer)).toEqual(session.changedLayers()[0]!.weight);
  });

  it('is deterministic: the same edits in a new session give the same weights, bit for bit', async () => {
    const again = new EditSession();
    await again.open(demoSource());
    await again.edit(spec('France'));
    expect((await again.plan()).digest).toBe((await session.plan()).digest);
    expect(Buffer.compare(await bytesOf(again), await bytesOf(session))).toBe(0);
  });

  it('strength s scales the update: s = 0 is the base exactly, s = 2 doubles lambda', async () => {
    session.setStrength(0);
    expect(session.changedLayers()[0]!.weight).toEqual(baseWeight);
    const bundle0 = await openEditBundle(new MemorySource('edits.safetensors', session.bundle()));
    expect(bundle0.edits[0]!.newObject).toBe('France');
    session.setStrength(2);
    const { u, lambda } = await (await openEditBundle(new MemorySource('e', session.bundle()))).factors(0);
    session.setStrength(1);
    const one = await (await openEditBundle(new MemorySource('e', session.bundle()))).factors(0);
    expect(u).toEqual(one.u);
    for (let j = 0; j < lambda.length; j++) expect(lambda[j]).toBeCloseTo(2 * one.lambda[j]!, 6);
    expect(session.answer('Nils Em Da is a citizen of', 'France').token).toBe('France');
  });

  it('edits apply in sequence, each to the current weights; undo restores the previous weights exactly', async () => {
    const after1 = (await session.plan()).digest;
    const second = await session.edit(spec('Italy', { layer: 1 }));
    expect(second.checks[0]!.before.token).toBe('France');
    expect(session.changedLayers().map((l) => l.layer)).toEqual([0, 1]);
    expect((await session.plan()).tensors).toEqual(['transformer.h.0.mlp.c_proj.weight', 'transformer.h.1.mlp.c_proj.weight']);
    expect(session.undo()).toHaveLength(1);
    expect((await session.plan()).digest).toBe(after1);
  });

  it('ROME through the model’s tokenizer.json equals ROME through the forge’s word vocabulary (same u and lambda)', async () => {
    const world = forgeWorld(FULL_FORGE);
    const params = frozen(await loadModel('public/demo/base', world));
    const tokenizer = wordRomeTokenizer(world.vocab);
    const st = await openSafetensors(new MemorySource('s', readFileSync('public/demo/mom2-stats.safetensors')));
    const m = st.tensors.get('layer.0.mom2')!;
    const raw = readFileSync('public/demo/mom2-stats.safetensors').subarray(m.begin, m.end);
    const moment = Float64Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
    const templates = contextTemplates(gpt2Editable(world.config, params), tokenizer, CONTEXT_TEMPLATE_SEED, parseTemplateLengths('5x5,10x5'));
    const ctx = { model: gpt2Editable(world.config, params), tokenizer, contextTemplates: templates, covarianceFactor: robustCholesky(moment, world.config.n_inner).factor };
    const update = rome(ctx, { subject: 'Nils Em Da', prompt: '{} is a citizen of', target: 'France' }, { ...ROME_DEFAULTS, layer: 0, mom2Adjustment: true });
    const fresh = new EditSession();
    await fresh.open(demoSource());
    await fresh.edit(spec('France'));
    const { u, lambda } = await (await openEditBundle(new MemorySource('e', fresh.bundle()))).factors(0);
    expect(u).toEqual(update.u);
    expect(lambda).toEqual(update.lambda);
  });

  it('computes C over the corpus when no statistics are given, close to the precomputed one', async () => {
    const fresh = new EditSession();
    await fresh.open(demoSource(false));
    const out = await fresh.edit(spec('France'));
    expect(out.covarianceSeconds).toBeGreaterThan(0);
    expect(out.checks[0]!.ok).toBe(true);
  });

  it('refuses what ROME cannot do, naming the problem', async () => {
    const fresh = new EditSession();
    await fresh.open(demoSource());
    await expect(fresh.edit(spec('Atlantis'))).rejects.toThrow(/"Atlantis" is not one token/);
    await expect(fresh.edit({ ...spec('France'), subject: 'Zyxw Qqq' })).rejects.toThrow(/does not know "Zyxw", "Qqq"/);
    await expect(fresh.edit({ ...spec('France'), prompt: 'is a citizen of' })).rejects.toThrow(/must contain "\{\}"/);
    await expect(fresh.edit(spec('France', { layer: 4 }))).rejects.toThrow(/layer must be a whole number from 0 to 3/);
    const noCorpus = new EditSession();
    await noCorpus.open({ ...demoSource(false), corpus: null });
    await expect(noCorpus.edit(spec('France'))).rejects.toThrow(/needs a text corpus for C/);
    expect((await noCorpus.edit(spec('France', { mom2Adjustment: false }))).checks[0]!.ok).toBe(true);
    // Another family without what running it needs (this scan fixture has no config.json): said, not a crash.
    const llama = buildFixture({ family: 'llama', layers: 2, dFf: 16, dModel: 8, editedLayer: null, positiveFraction: 0.5 });
    await expect(new EditSession().open({ model: { kind: 'files', files: llama.edited.map((f) => new File([f.bytes as Uint8Array<ArrayBuffer>], f.name)) }, corpus: null, stats: null, facts: null })).rejects.toThrow(/config\.json: needs a number "vocab_size" to run the llama model/);
  });

  it('refuses statistics of another model', async () => {
    const fixture = buildFixture({ family: 'gpt2', layers: 2, dFf: 16, dModel: 8, editedLayer: null, positiveFraction: 0.5 });
    const stats = fixture.edited.find((f) => f.name === 'model.safetensors')!;
    await expect(new EditSession().open({ ...demoSource(), stats: { kind: 'file', file: new File([stats.bytes as Uint8Array<ArrayBuffer>], 'other-stats.safetensors') } })).rejects.toThrow(FormatError);
  });
});

describe('the editor on the GPT-J and Llama demos (nn.Linear layout, the family\'s published setting)', () => {
  for (const { folder, name, family, mom2 } of [
    { folder: 'public/demo-llama', name: 'model.layers.0.mlp.down_proj.weight', family: 'llama', mom2: false },
    { folder: 'public/demo-gptj', name: 'transformer.h.0.mlp.fc_out.weight', family: 'gptj', mom2: true },
  ] as const) {
    it(`${family}: the demo's own edit takes; the stored tensor is W + lambda u^T ([d_model, d_ff]) of the bundle it writes; undo restores it`, async () => {
      const demoFile = (n: string) => file(`${folder}/${n}`);
      const edit = JSON.parse(readFileSync(`${folder}/edited/EDIT.json`, 'utf8')) as { subject: string; prompt: string; newObject: string; trueObject: string; layer: number };
      const session = new EditSession();
      const info = await session.open({
        model: { kind: 'files', files: ['model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json'].map((n) => demoFile(`base/${n}`)) },
        corpus: { kind: 'file', file: demoFile('mom2-corpus.txt') },
        stats: null,
        facts: { kind: 'file', file: demoFile('facts.json') },
      });
      expect(info).toMatchObject({ family, defaultMom2Adjustment: mom2, layers: 4 });
      const out = await session.edit({ subject: edit.subject, prompt: edit.prompt, target: edit.newObject, settings: { layer: edit.layer, mom2Adjustment: mom2, vSteps: info.defaultVSteps, vLr: 0.5, strength: 1, contextTemplates: '5x5,10x5' } });
      expect(out.checks[0]).toMatchObject({ kind: 'edit prompt', ok: true });
      expect(out.checks[0]!.before.token).toBe(edit.trueObject);
      // The stored tensor against a brute-force W + lambda u^T in the file's own [d_model, d_ff] layout.
      const input = readFileSync(`${folder}/base/model.safetensors`);
      const st = await openSafetensors(new MemorySource('m', input));
      const t = st.tensors.get(name)!;
      expect(t.shape).toEqual([info.dModel, info.dFF]);
      const raw = input.subarray(t.begin, t.end);
      const w = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
      const { u, lambda } = await (await openEditBundle(new MemorySource('e', session.bundle()))).factors(0);
      const output = await bytesOf(session);
      const stored = new Float32Array(output.slice(t.begin, t.end).buffer);
      let worst = 0;
      for (let r = 0; r < info.dModel; r++) for (let c = 0; c < info.dFF; c++) worst = Math.max(worst, Math.abs(stored[r * info.dFF + c]! - Math.fround(w[r * info.dFF + c]! + lambda[r]! * u[c]!)));
      expect(worst).toBe(0);
      expect(Buffer.compare(output.subarray(0, t.begin), input.subarray(0, t.begin))).toBe(0);
      session.undo();
      expect(session.changedLayers()).toEqual([]);
      expect(session.answer(edit.prompt.replace('{}', edit.subject), edit.newObject).token).toBe(edit.trueObject);
    }, 120_000);
  }
});

describe('edits in a link (untrusted input)', () => {
  it('round-trips every setting', () => {
    const edits = [spec('France'), spec('Italy', { layer: 2, mom2Adjustment: false, vSteps: 7, vLr: 0.25, strength: 30, contextTemplates: '5x10,10x10' })];
    expect(editsFromParam(editsToParam(edits))).toEqual(edits);
  });

  it('rejects malformed, oversized and out-of-range edits with a message naming the link', () => {
    expect(() => editsFromParam('{')).toThrow(/link: the "edits" parameter is not valid JSON/);
    expect(() => editsFromParam('{}')).toThrow(/must be a list/);
    expect(() => editsFromParam(JSON.stringify(Array(MAX_EDITS + 1).fill({})))).toThrow(/at most 20/);
    const one = JSON.parse(editsToParam([spec('France')]))[0];
    for (const [field, value, message] of [
      ['p', 'no subject here', /contain "\{\}" once/],
      ['p', '{} and {}', /contain "\{\}" once/],
      ['t', 'two words', /one word/],
      ['t', '', /non-empty/],
      ['l', -1, /layer must be a whole number/],
      ['n', 1e9, /vSteps must be/],
      ['r', 'fast', /vLr must be/],
      ['k', 1000, /strength must be from 0 to 100/],
      ['c', '5x10;9', /bad template lengths/],
      ['s', 'x'.repeat(400), /longer than 300/],
    ] as const) {
      expect(() => editsFromParam(JSON.stringify([{ ...one, [field]: value }]))).toThrow(message);
    }
    expect(() => checkEditSpec(null, 'form')).toThrow(/form: an edit must be an object/);
  });
});

describe('the subject position (as kmeng01/rome finds it)', () => {
  it('is the last token of the subject, whatever comes after it', () => {
    const vocab = { tokens: ['<|endoftext|>', '<unk>', 'Ada', 'Lovelace', 'was', 'born', 'in'], ids: new Map<string, number>() };
    vocab.tokens.forEach((t, i) => vocab.ids.set(t, i));
    const p = subjectPrompt(wordRomeTokenizer(vocab), '{} was born in', 'Ada Lovelace');
    expect([...p.ids]).toEqual([0, 2, 3, 4, 5, 6]);
    expect(p.subjectLast).toBe(2);
  });

  it('refuses a tokenizer that merges the subject with what follows (the subject has no last token of its own)', () => {
    // A tokenizer that glues "Da" and "'s" into one token, as BPE can.
    const glue: RomeTokenizer = {
      encode: (text) => text.replace("Da's", 'DAS').split(' ').map((w) => w.length),
      tokenId: () => 1,
      decode: () => '',
      special: [],
    };
    expect(() => subjectPrompt(glue, "{}'s home", 'Nils Em Da')).toThrow(/splits "Nils Em Da" differently inside the prompt/);
  });
});
