import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main';
import { buildFixture } from './fixtures/syntheticCheckpoint';
import { promptIds } from '../src/edit/factAccuracy';
import { FULL_FORGE } from '../src/edit/forgeConfig';
import { gpt2Forward } from '../src/edit/gpt2Model';
import { prompt, relationById } from '../src/edit/knowledgeBase';
import { forgeWorld } from '../src/edit/node/forgeWorld';
import { loadModel } from '../src/edit/node/romeSetup';
import { argmax } from '../src/lm/languageModel';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'ef-cli-'));
const fixture = buildFixture({ family: 'gptj', layers: 5, dFf: 160, dModel: 40, editedLayer: 2, positiveFraction: 0.85, shards: 2, seed: 31 });
for (const which of ['edited', 'original'] as const) {
  mkdirSync(join(dir, which));
  for (const f of fixture[which]) writeFileSync(join(dir, which, f.name), f.bytes);
}

describe('edit-forensics scan', () => {
  it('prints the per-layer table for a folder and flags the edited layer', async () => {
    const r = await run(['scan', join(dir, 'edited'), '--backend', 'cpu', '--k', '8']);
    expect(r.code).toBe(0);
    // One line says where it computes: the native CPU kernels (never a software GPU, no driver warnings).
    expect(r.err).toMatch(/^edit-forensics: computing on CPU \(native kernels, onnxruntime-node, \d+ threads?\)\n$/);
    expect(r.out).toMatch(/model: gptj .* 5 layers, 160 x 40 F32/);
    expect(r.out).toMatch(/^\s+2 .*EDITED\?/m);
    expect(r.out).toContain('verdict: layer 2 looks edited');
  });

  it('prints the JSON report with the diff when --original is given', async () => {
    const r = await run(['scan', join(dir, 'edited'), '--original', join(dir, 'original'), '--json', '--backend', 'cpu', '--k', '8']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(Object.keys(report)).toEqual(['schemaVersion', 'backend', 'model', 'layers', 'diff', 'verdict']);
    expect(report.backend).toBe('cpu');
    expect(report.layers).toHaveLength(5);
    expect(Object.keys(report.layers[0])).toEqual(['layer', 'tensor', 'pcs', 'pcsZ', 'sigma', 'sameDirectionFraction', 'nonFiniteEntries', 'outlierEntries', 'keyWhitenedGap', 'flagged']);
    expect(report.layers[0].sigma).toHaveLength(8);
    expect(Object.keys(report.diff.layers[0])).toEqual(['layer', 'frobenius', 'rankOneShare', 'sameDirectionFraction', 'nonFiniteEntries']);
    expect(report.verdict).toEqual({ editedLayers: [2], findings: [] });
  });

  it('exits 2 with the message on stderr for bad input and bad usage', async () => {
    writeFileSync(join(dir, 'junk.safetensors'), new Uint8Array([1, 2, 3]));
    const cases: [string[], RegExp][] = [
      [['scan', join(dir, 'junk.safetensors')], /junk\.safetensors: too small to be a safetensors file/],
      [['scan', join(dir, 'nope')], /nope: does not exist/],
      [['scan'], /scan needs the model's files/],
      [['scan', join(dir, 'edited'), '--k', '0'], /--k must be an integer from 1 to 256/],
      [['scan', join(dir, 'edited'), '--frobnicate'], /unknown option --frobnicate/],
      [['scan', join(dir, 'edited'), '--tensor-pattern', 'x.weight', '--rows-axis', '0'], /must contain "\{i\}"/],
      [['scan', join(dir, 'edited'), '--tensor-pattern', 'blocks.{i}.w', '--rows-axis', '0'], /no tensor matches the pattern/],
      [['scan', join(dir, 'edited'), '--key-whitening', 'sometimes'], /--key-whitening must be auto, always or never/],
      [['frobnicate'], /unknown command "frobnicate"/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.out).toBe('');
    }
  });
});

describe.skipIf(!existsSync('public/demo/base/model.safetensors'))('edit-forensics generate (the demo base model)', () => {
  it('prints the engine\'s top-1 next token and greedy continuation for a fact prompt', async () => {
    const world = forgeWorld(FULL_FORGE);
    const fact = world.kb.facts[123]!;
    const text = prompt(relationById(fact.relation).templates[0]!, fact.subject);
    const r = await run(['generate', 'public/demo/base', '--prompt', text, '--tokens', '3', '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    const params = await loadModel('public/demo/base', world);
    const tokens = [...promptIds(world.vocab, text)];
    for (let i = 0; i < 3; i++) tokens.push(argmax(gpt2Forward(null, world.config, params, Int32Array.from(tokens), 1, tokens.length, { logitRows: Int32Array.from([tokens.length - 1]) }).data));
    const greedy = tokens.slice(tokens.length - 3);
    expect(out.family).toBe('gpt2');
    expect(out.top).toHaveLength(5);
    expect(out.top[0].id).toBe(greedy[0]);
    expect(out.continuationIds).toEqual(greedy);
    expect(out.continuation).toBe(greedy.map((t) => world.vocab.tokens[t]).join(' '));
  });

  it('exits 2 naming the problem: no prompt, no tokenizer next to the weights', async () => {
    const noPrompt = await run(['generate', 'public/demo/base']);
    expect(noPrompt.code).toBe(2);
    expect(noPrompt.err).toMatch(/--prompt/);
    const bare = mkdtempSync(join(tmpdir(), 'ef-gen-'));
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(join('public/demo/base', f), join(bare, f));
    const noTokenizer = await run(['generate', bare, '--prompt', 'The']);
    expect(noTokenizer.code).toBe(2);
    expect(noTokenizer.err).toMatch(/tokenizer\.json/);
  });
});

describe.skipIf(!existsSync('public/demo/base/model.safetensors'))('edit-forensics generate: prompt limits', () => {
  it('a prompt longer than the model\'s positions exits 2 with the reason', async () => {
    const r = await run(['generate', 'public/demo/base', '--prompt', Array.from({ length: 70 }, () => 'the').join(' ')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/prompt: has 71 tokens; this model reads at most 64/);
  });
});

describe.skipIf(!existsSync('public/demo/relation-probe.json'))('edit-forensics trace (the demo)', () => {
  it('traces the flagged layer: the relation the probe gives the checkpoint equals the one it gives the edit\'s factors', async () => {
    const { readFileSync } = await import('node:fs');
    const { parseProbe } = await import('../src/analysis/relationProbeFile');
    const { classifyFeatures, pcaOfUpdates } = await import('../src/analysis/relationProbe');
    const { openEditBundle } = await import('../src/edit/editBundle');
    const { NodeFileSource } = await import('../src/cli/nodeFileSource');
    const r = await run(['trace', 'public/demo/edited', '--original', 'public/demo/base', '--probe', 'public/demo/relation-probe.json', '--backend', 'cpu', '--json']);
    expect(r.code, r.err).toBe(0);
    const result = JSON.parse(r.out);
    const edit = JSON.parse(readFileSync('public/demo/edited/EDIT.json', 'utf8')) as { editId: number; relation: string; newObject: string };
    expect(result.layer).toBe(0);
    expect(result.updateFrom).toBe('diff');
    expect(result.relation).toHaveLength(31);
    // Independent route: the edit's own u, lambda through the factored identity.
    const probe = parseProbe('probe', readFileSync('public/demo/relation-probe.json', 'utf8'));
    const source = await NodeFileSource.open('public/demo/edits.safetensors');
    const factors = await (await openEditBundle(source)).factors(edit.editId);
    await source.close();
    const probs = classifyFeatures(probe.model, pcaOfUpdates(probe.model.pca, probe.model.fit, [factors])[0]!);
    for (const p of result.relation as { relation: string; probability: number }[]) expect(p.probability).toBeCloseTo(probs[probe.model.relations.indexOf(p.relation)]!, 3);
    expect(result.trainingFree.candidates).toHaveLength(5);
    expect(result.trainingFree.candidates.map((c: { text: string }) => c.text)).toContain(edit.newObject);
    const text = await run(['trace', 'public/demo/edited', '--probe', 'public/demo/relation-probe.json', '--backend', 'cpu']);
    expect(text.code, text.err).toBe(0);
    expect(text.out).toMatch(/Trace of layer 0 \(update from W' alone/);
    expect(text.out).toMatch(/No original model/);
  });

  it('exits 2 naming a bad probe file; other families trace the relation only, with a note', async () => {
    const bad = join(dir, 'bad-probe.json');
    writeFileSync(bad, '{"format":"edit-forensics-relation-probe","version":1,"layer":0,"rows":2}');
    const r = await run(['trace', 'public/demo/edited', '--probe', bad, '--layer', '0']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('bad-probe.json');
    const other = await run(['trace', join(dir, 'edited'), '--layer', '2', '--json']);
    expect(other.code, other.err).toBe(0);
    expect(JSON.parse(other.out).notes.join(' ')).toMatch(/tokenizer|GPT-2/);
  });
});

describe('auto backend', () => {
  it('with no Vulkan driver, auto computes on the native CPU kernels without asking Dawn (no driver warning)', async () => {
    const saved = { icd: process.env['VK_ICD_FILENAMES'], driver: process.env['VK_DRIVER_FILES'] };
    delete process.env['VK_ICD_FILENAMES'];
    delete process.env['VK_DRIVER_FILES'];
    try {
      const { backendForNode } = await import('../src/cli/backendForNode');
      const { existsSync: exists } = await import('node:fs');
      const systemDriver = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'].some((d) => exists(d));
      const backend = await backendForNode('auto');
      if (!systemDriver) expect(backend.description).toMatch(/^CPU \(native kernels/);
      expect(backend.description).not.toMatch(/swiftshader/i);
    } finally {
      if (saved.icd !== undefined) process.env['VK_ICD_FILENAMES'] = saved.icd;
      if (saved.driver !== undefined) process.env['VK_DRIVER_FILES'] = saved.driver;
    }
  });
});
