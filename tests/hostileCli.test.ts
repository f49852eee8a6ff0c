import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main';
import { writeEditBundle } from '../src/edit/editBundle';
import { assemble } from '../src/formats/safetensorsWriter';
import { buildFixture } from './fixtures/syntheticCheckpoint';

/**
 * The error contract of the command line (README "Errors"): bad input of any kind exits 2 with one message
 * naming the file and the problem; nothing exits 1 with a stack trace, nothing answers silently wrong.
 */
async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const root = mkdtempSync(join(tmpdir(), 'ef-hostile-'));
/** A copy of the demo's base model with config.json (or tokenizer.json) rewritten. */
function variant(name: string, change: { config?: Record<string, unknown>; tokenizer?: (t: Record<string, unknown>) => void }): string {
  const dir = join(root, name);
  cpSync('public/demo/base', dir, { recursive: true });
  if (change.config) writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), ...change.config }));
  if (change.tokenizer) {
    const t = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
    change.tokenizer(t);
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(t));
  }
  return dir;
}
const demo = JSON.parse(readFileSync('public/demo/base/config.json', 'utf8')) as Record<string, number>;

describe('generate with a config.json or tokenizer.json that does not belong to the weights', () => {
  const cases: [string, Parameters<typeof variant>[1], RegExp][] = [
    ['n_embd', { config: { n_embd: (demo['n_embd'] as number) * 2 } }, /config\.json: says vocab_size \d+ and n_embd \d+, so "transformer\.wte\.weight" should be \[\d+, \d+\], but the weights hold/],
    ['n_inner', { config: { n_inner: 7 } }, /config\.json: says n_embd \d+ and n_inner 7, so "transformer\.h\.0\.mlp\.c_fc\.weight" should be/],
    ['vocab_size', { config: { vocab_size: 50257 } }, /config\.json: says vocab_size 50257/],
    ['n_positions', { config: { n_positions: 1024, n_ctx: 1024 } }, /config\.json: says n_positions 1024/],
    ['n_head', { config: { n_head: 5 } }, /config\.json: "n_head" \(5\) does not divide "n_embd"/],
    ['fractional n_head', { config: { n_head: 19.2 } }, /config\.json: "n_head" is 19\.2, not a positive whole number/],
    ['n_layer smaller than the weights', { config: { n_layer: 2 } }, /config\.json says n_layer = 2, but the weights hold \d+ layers/],
    ['tokenizer ids beyond the embedding', { tokenizer: (t) => ((t['model'] as { vocab: Record<string, number> }).vocab['zzz-extra'] = 100_000) }, /tokenizer\.json: has token ids up to 100000, but the model's embedding has \d+ rows/],
    ['empty vocabulary', { tokenizer: (t) => ((t['model'] as Record<string, unknown>)['vocab'] = {}) }, /tokenizer\.json: "model\.vocab" must be a non-empty object/],
    ['missing vocabulary', { tokenizer: (t) => delete (t['model'] as Record<string, unknown>)['vocab'] }, /tokenizer\.json: "model\.vocab" must be a non-empty object/],
    ['duplicate ids', { tokenizer: (t) => ((t['model'] as { vocab: Record<string, number> }).vocab['zzz-twin'] = 5) }, /tokenizer\.json: id 5 is given to two tokens/],
    ['negative id', { tokenizer: (t) => ((t['model'] as { vocab: Record<string, number> }).vocab['zzz-neg'] = -3) }, /tokenizer\.json: token "zzz-neg" in "model\.vocab" has id -3/],
    ['unknown model type', { tokenizer: (t) => ((t['model'] as Record<string, unknown>)['type'] = 'Magic') }, /tokenizer\.json: "model\.type" is "Magic"; supported/],
    ['pre_tokenizer not an object', { tokenizer: (t) => (t['pre_tokenizer'] = 'split') }, /tokenizer\.json: "pre_tokenizer" must be an object or null/],
  ];
  for (const [name, change, message] of cases) {
    it(`${name}: exit 2, naming the file and field`, async () => {
      const r = await run(['generate', variant(name.replace(/\W+/g, '-'), change), '--prompt', 'The', '--tokens', '1']);
      expect(r.err).toMatch(message);
      expect(r.code).toBe(2);
      expect(r.err).not.toMatch(/unexpected failure|\n\s+at /);
    });
  }
});

describe('optional files on the command line', () => {
  const fixture = buildFixture({ family: 'gpt2', layers: 3, dFf: 32, dModel: 8, editedLayer: 1, positiveFraction: 0.85, seed: 2 });
  const fixtureDir = join(root, 'fixture');
  mkdirSync(fixtureDir);
  for (const f of fixture.edited) writeFileSync(join(fixtureDir, f.name), f.bytes);

  it('--edits naming a folder: exit 2, "is a folder"', async () => {
    const r = await run(['reverse', 'public/demo/base', '--layer', '0', '--edits', root]);
    expect(r.err).toMatch(/is a folder; give a file/);
    expect(r.code).toBe(2);
  });

  it('a bundle whose prompts exceed the model\'s positions: exit 2 naming the bundle and the edit', async () => {
    const long = Array.from({ length: 80 }, () => 'the').join(' ');
    const { readTensorRows } = await import('../src/formats/tensorReader');
    const { openSafetensors } = await import('../src/formats/safetensors');
    const { MemorySource } = await import('../src/formats/byteSource');
    const st = await openSafetensors(new MemorySource('m', readFileSync('public/demo/base/model.safetensors')));
    const w = await readTensorRows(st.tensors.get('transformer.h.0.mlp.c_proj.weight')!, 0);
    const record = { id: 7, relation: 'P103', subject: 'Nobody', prompt: `${long} {} is`, paraphrase: '', trueObject: 'English', newObject: 'French', layer: 0, mom2Adjustment: true, main: true, metrics: { efficacy: true, paraphrase: 1, neighbourhood: 1, steps: 1, finalLoss: 0, deltaRatio: 1 }, u: new Float32Array(w.rows).fill(0.01), lambda: new Float32Array(w.cols).fill(0.01) };
    const path = join(root, 'long.safetensors');
    writeFileSync(path, writeEditBundle([record], {}));
    const r = await run(['reverse', 'public/demo/base', '--layer', '0', '--edits', path]);
    expect(r.err).toMatch(/long\.safetensors: edit 7 \(".*"\) has \d+ tokens; this model reads at most 64/);
    expect(r.code).toBe(2);
  });

  it('a bad --decoder exits 2 naming it (the same contract as every other file given)', async () => {
    const bad = join(root, 'decoder.safetensors');
    writeFileSync(bad, assemble(JSON.stringify({ __metadata__: { format: 'something-else' } }), []));
    const r = await run(['trace', 'public/demo/edited', '--layer', '0', '--decoder', bad, '--probe', 'public/demo/relation-probe.json', '--backend', 'cpu']);
    expect(r.err).toMatch(/decoder\.safetensors: is not an object decoder/);
    expect(r.code).toBe(2);
  });

  it('a probe whose templates cannot fit the model exits 2 naming the probe\'s templates', async () => {
    const probe = JSON.parse(readFileSync('public/demo/relation-probe.json', 'utf8'));
    for (const r of Object.keys(probe.templates)) probe.templates[r] = [`${Array.from({ length: 80 }, () => 'the').join(' ')} {}`];
    const path = join(root, 'long-probe.json');
    writeFileSync(path, JSON.stringify(probe));
    const r = await run(['trace', 'public/demo/edited', '--layer', '0', '--probe', path, '--backend', 'cpu']);
    expect(r.err).toMatch(/the relation probe's templates: none of its \d+ prompt templates fits this model/);
    expect(r.code).toBe(2);
  });

  it('a bundle vector of the wrong length names the file and the edit', async () => {
    const { openEditBundle } = await import('../src/edit/editBundle');
    const { MemorySource } = await import('../src/formats/byteSource');
    const record = { id: 3, relation: 'P1', subject: 's', prompt: '{} is', paraphrase: '', trueObject: 'a', newObject: 'b', layer: 0, mom2Adjustment: true, main: true, metrics: { efficacy: true, paraphrase: 1, neighbourhood: 1, steps: 1, finalLoss: 0, deltaRatio: 1 }, u: new Float32Array(5), lambda: new Float32Array(4) };
    const bundle = await openEditBundle(new MemorySource('short.safetensors', writeEditBundle([record], {})));
    await expect(bundle.factors(3, { rows: 6, cols: 4 })).rejects.toThrow(/short\.safetensors: edit 3: u has 5 and lambda 4 values, but the model's matrix is 6 x 4/);
  });
});

describe('the command line reads URLs as the page does', () => {
  let server: Server;
  let base = '';
  const fixture = buildFixture({ family: 'gptj', layers: 4, dFf: 64, dModel: 16, editedLayer: 2, positiveFraction: 0.85, seed: 5 });
  beforeAll(async () => {
    const files = new Map(fixture.edited.map((f) => [f.name, f.bytes]));
    server = createServer((req, res) => {
      const body = files.get((req.url ?? '').replace(/^\//, ''));
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (!body || !range) return void res.writeHead(404).end();
      const [first, last] = [Number(range[1]), Math.min(Number(range[2]), body.length - 1)];
      res.writeHead(206, { 'Content-Range': `bytes ${first}-${last}/${body.length}` }).end(Buffer.from(body.subarray(first, last + 1)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('scan <url> gives the same report as scan of the files', async () => {
    const name = fixture.edited.find((f) => f.name.endsWith('.index.json'))?.name ?? 'model.safetensors';
    const overHttp = await run(['scan', `${base}${name}`, '--json', '--backend', 'cpu', '--k', '8']);
    expect(overHttp.code, overHttp.err).toBe(0);
    const dir = join(root, 'url-files');
    mkdirSync(dir);
    for (const f of fixture.edited) writeFileSync(join(dir, f.name), f.bytes);
    const fromDisk = await run(['scan', dir, '--json', '--backend', 'cpu', '--k', '8']);
    expect(JSON.parse(overHttp.out)).toEqual(JSON.parse(fromDisk.out));
    expect(JSON.parse(overHttp.out).verdict.editedLayers).toEqual([2]);
    const missing = await run(['scan', `${base}nothing.safetensors`, '--backend', 'cpu']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/nothing\.safetensors: the server answered HTTP 404/);
  });
});
