import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { scanModel } from '../src/analysis/scanModel';
import { cpuBackend } from '../src/core/matrixBackend';
import type { EditRecordMeta } from '../src/edit/editBundle';
import { factAccuracy } from '../src/edit/factAccuracy';
import { FULL_FORGE, FULL_GPTJ_FORGE, FULL_LLAMA_FORGE } from '../src/edit/forgeConfig';
import { openEditBundle } from '../src/edit/editBundle';
import { loadForgeModel } from '../src/edit/node/forgeModelFiles';
import { mlpOutputName } from '../src/edit/gpt2Model';
import { loadModel } from '../src/edit/node/romeSetup';
import { forgeWorld } from '../src/edit/node/forgeWorld';
import { MemorySource, resolverFromSources } from '../src/formats/byteSource';
import { openCheckpoint } from '../src/formats/checkpoint';
import { openSafetensors } from '../src/formats/safetensors';
import { readTensorRows } from '../src/formats/tensorReader';
import { gpt2Editable } from '../src/edit/editableModel';

/** What is committed in public/demo: checked against the forge's code, not against the forge's own reports. */
const DEMO = 'public/demo';
const present = existsSync(join(DEMO, 'edited', 'model.safetensors')) && existsSync(join(DEMO, 'edits.safetensors'));

function folderBytes(dir: string): number {
  return readdirSync(dir).reduce((a, name) => {
    const p = join(dir, name);
    return a + (statSync(p).isDirectory() ? folderBytes(p) : statSync(p).size);
  }, 0);
}

const open = async (dir: string) => {
  const sources = readdirSync(dir).map((f) => new MemorySource(f, new Uint8Array(readFileSync(join(dir, f)))));
  return openCheckpoint(sources, resolverFromSources(sources));
};

describe.skipIf(!present)('the committed demo', () => {
  it('fits in 25 MB', () => {
    expect(folderBytes(DEMO)).toBeLessThanOrEqual(25 * 1024 * 1024);
  });

  it('edited checkpoint = base + u lambda^T of its recorded edit, every other tensor identical', async () => {
    const edit = JSON.parse(readFileSync(join(DEMO, 'edited', 'EDIT.json'), 'utf8')) as { editId: number; layer: number };
    const bundle = await openSafetensors(new MemorySource('edits', new Uint8Array(readFileSync(join(DEMO, 'edits.safetensors')))));
    const u = (await readTensorRows({ ...bundle.tensors.get(`edit.${edit.editId}.u`)!, shape: [1, bundle.tensors.get(`edit.${edit.editId}.u`)!.shape[0]!] }, 0)).data;
    const lambda = (await readTensorRows({ ...bundle.tensors.get(`edit.${edit.editId}.lambda`)!, shape: [1, bundle.tensors.get(`edit.${edit.editId}.lambda`)!.shape[0]!] }, 0)).data;
    const baseCk = await open(join(DEMO, 'base'));
    const editedCk = await open(join(DEMO, 'edited'));
    expect([...editedCk.tensors.keys()].sort()).toEqual([...baseCk.tensors.keys()].sort());
    for (const [name, info] of baseCk.tensors) {
      const a = new Uint8Array(await info.source.read(info.begin, info.end - info.begin));
      const other = editedCk.tensors.get(name)!;
      const b = new Uint8Array(await other.source.read(other.begin, other.end - other.begin));
      if (name !== mlpOutputName(edit.layer)) {
        expect(Buffer.from(b).equals(Buffer.from(a)), name).toBe(true);
        continue;
      }
      const w = new Float32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.length));
      const w2 = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
      const d = lambda.length;
      for (let i = 0; i < u.length; i++) for (let j = 0; j < d; j++) expect(w2[i * d + j]).toBe(Math.fround(w[i * d + j]! + u[i]! * lambda[j]!));
    }
  });

  it('the bundle records each edit with the required metadata, and the main set reaches 95% efficacy', async () => {
    const bundle = await openSafetensors(new MemorySource('edits', new Uint8Array(readFileSync(join(DEMO, 'edits.safetensors')))));
    const metas = JSON.parse(bundle.metadata['edits']!) as EditRecordMeta[];
    const main = metas.filter((m) => m.main);
    expect(main.length).toBeGreaterThanOrEqual(3100);
    expect(metas.filter((m) => !m.main).length).toBeGreaterThanOrEqual(310);
    for (const m of metas.slice(0, 50)) {
      expect(bundle.tensors.has(`edit.${m.id}.u`)).toBe(true);
      expect(bundle.tensors.has(`edit.${m.id}.lambda`)).toBe(true);
      expect(m.newObject).not.toBe(m.trueObject);
    }
    expect(main.filter((m) => m.metrics.efficacy).length / main.length).toBeGreaterThanOrEqual(0.95);
  });

  it("the base model meets the issue's bars on every fact (>= 97% training templates, >= 85% held-out), read through the app-side readers", async () => {
    const world = forgeWorld(FULL_FORGE);
    const params = await loadModel(join(DEMO, 'base'), world);
    const acc = factAccuracy(gpt2Editable(world.config, params), world.vocab, world.kb);
    expect(acc.train).toBeGreaterThanOrEqual(0.97);
    expect(acc.heldOut).toBeGreaterThanOrEqual(0.85);
    // The tokenizer file reads through the library the app uses, with the forge's ids.
    const tok = new Tokenizer(JSON.parse(readFileSync(join(DEMO, 'base', 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(DEMO, 'base', 'tokenizer_config.json'), 'utf8')));
    const text = `The mother tongue of ${world.kb.facts[0]!.subject} is`;
    // The tokenizer adds <|endoftext|> first, as every training sequence began.
    expect(tok.encode(text).ids).toEqual([world.vocab.ids.get('<|endoftext|>'), ...text.split(' ').map((w) => world.vocab.ids.get(w))]);
  });

  it('the detection scan of the edited demo flags the edited layer', async () => {
    const edit = JSON.parse(readFileSync(join(DEMO, 'edited', 'EDIT.json'), 'utf8')) as { layer: number };
    const result = await scanModel(await open(join(DEMO, 'edited')), { backend: cpuBackend, original: await open(join(DEMO, 'base')) });
    expect(result.report.verdict.editedLayers).toEqual([edit.layer]);
    expect(result.report.diff!.layers[edit.layer]!.rankOneShare!).toBeGreaterThan(0.999);
  });
});

/** The GPT-J and Llama demos (the paper's other two columns), checked the same way in their own layouts. */
const FAMILY_DEMOS = [
  { dir: 'public/demo-gptj', forge: FULL_GPTJ_FORGE, mom2: true },
  { dir: 'public/demo-llama', forge: FULL_LLAMA_FORGE, mom2: false },
] as const;

describe('the three demos together', () => {
  it('fit in 40 MB, everything served from public/', () => {
    expect(folderBytes('public')).toBeLessThanOrEqual(40 * 1000 * 1000);
  });
});

for (const { dir, forge, mom2 } of FAMILY_DEMOS) {
  describe.skipIf(!existsSync(join(dir, 'edits.safetensors')))(`the committed ${forge.architecture} demo (${dir})`, () => {
    it('edited checkpoint = base + lambda u^T of its recorded edit in the stored [d_model, d_ff] layout, every other tensor identical', async () => {
      const edit = JSON.parse(readFileSync(join(dir, 'edited', 'EDIT.json'), 'utf8')) as { editId: number; layer: number };
      const bundle = await openEditBundle(new MemorySource('edits', new Uint8Array(readFileSync(join(dir, 'edits.safetensors')))));
      const { u, lambda } = await bundle.factors(edit.editId);
      const { model } = await loadForgeModel(forge, dir);
      const { name } = model.mlpOutput(edit.layer);
      const baseCk = await open(join(dir, 'base'));
      const editedCk = await open(join(dir, 'edited'));
      expect([...editedCk.tensors.keys()].sort()).toEqual([...baseCk.tensors.keys()].sort());
      for (const [tensor, info] of baseCk.tensors) {
        const a = new Uint8Array(await info.source.read(info.begin, info.end - info.begin));
        const other = editedCk.tensors.get(tensor)!;
        const b = new Uint8Array(await other.source.read(other.begin, other.end - other.begin));
        if (tensor !== name) {
          expect(Buffer.from(b).equals(Buffer.from(a)), tensor).toBe(true);
          continue;
        }
        expect(info.shape).toEqual([lambda.length, u.length]);
        const w = new Float32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.length));
        const w2 = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
        const n = u.length;
        let worst = 0;
        for (let r = 0; r < lambda.length; r++) for (let c = 0; c < n; c++) worst = Math.max(worst, Math.abs(w2[r * n + c]! - Math.fround(w[r * n + c]! + lambda[r]! * u[c]!)));
        expect(worst).toBe(0);
      }
    });

    it(`the bundle: >= 50 effective edits per relation with ROME as published for ${forge.architecture} (mom2 ${mom2 ? 'on' : 'off'}), >= 10 per relation of the other setting, marked with its model`, async () => {
      const bundle = await openEditBundle(new MemorySource('edits', new Uint8Array(readFileSync(join(dir, 'edits.safetensors')))));
      expect(bundle.info['model']).toBe(`${forge.name} (${forge.architecture})`);
      const main = bundle.edits.filter((e) => e.main);
      expect(main.every((e) => e.mom2Adjustment === mom2)).toBe(true);
      const effective = new Map<string, number>();
      for (const e of main) if (e.metrics?.efficacy) effective.set(e.relation, (effective.get(e.relation) ?? 0) + 1);
      const relations = new Set(forgeWorld(forge).kb.relations.map((r) => r.id));
      expect(effective.size).toBe(relations.size);
      for (const n of effective.values()) expect(n).toBeGreaterThanOrEqual(50);
      const others = new Map<string, number>();
      for (const e of bundle.edits) if (!e.main && e.mom2Adjustment === !mom2) others.set(e.relation, (others.get(e.relation) ?? 0) + 1);
      for (const r of relations) expect(others.get(r) ?? 0).toBeGreaterThanOrEqual(10);
    });

    it(`from its weights alone: ${mom2 ? 'the edited layer is flagged by the key-whitened rule (ROME with the mom2 adjustment)' : 'not flagged (ROME without the mom2 adjustment: README, detection on the three demos)'}; its base flags nothing`, async () => {
      const edit = JSON.parse(readFileSync(join(dir, 'edited', 'EDIT.json'), 'utf8')) as { layer: number };
      const edited = await scanModel(await open(join(dir, 'edited')), { backend: cpuBackend });
      expect(edited.report.verdict.editedLayers).toEqual(mom2 ? [edit.layer] : []);
      if (mom2) expect(edited.details[edit.layer]?.reasons).toContain('keys');
      const base = await scanModel(await open(join(dir, 'base')), { backend: cpuBackend });
      expect(base.report.verdict.editedLayers).toEqual([]);
      expect(Math.max(...base.report.layers.map((l) => l.keyWhitenedGap as number))).toBeLessThan(1.6);
    }, 60_000);

    it("the base model meets the issue's bars (>= 97% training templates, >= 85% held-out)", async () => {
      const { world, model } = await loadForgeModel(forge, dir);
      const acc = factAccuracy(model, world.vocab, world.kb);
      expect(acc.train).toBeGreaterThanOrEqual(0.97);
      expect(acc.heldOut).toBeGreaterThanOrEqual(0.85);
    }, 240_000);
  });
}
