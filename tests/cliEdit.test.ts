import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EditSession } from '../src/analysis/editSession';
import { main } from '../src/cli/main';
import { useGemmKernel } from '../src/edit/engine/gemm';
import { wasmGemmNT } from '../src/wasm/wasmGemm';
import { openEditBundle } from '../src/edit/editBundle';
import { MemorySource } from '../src/formats/byteSource';
import { openSafetensors } from '../src/formats/safetensors';
import { buildFixture } from './fixtures/syntheticCheckpoint';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const BASE = 'public/demo/base';
const TENSOR = 'transformer.h.0.mlp.c_proj.weight';
const dir = mkdtempSync(join(tmpdir(), 'ef-cli-edit-'));
const edit = ['edit', BASE, '--prompt', 'The mother tongue of {} is', '--subject', 'Max Ada Dor Fra', '--target', 'English'];

async function tensorOf(path: string, name: string) {
  const bytes = readFileSync(path);
  const file = await openSafetensors(new MemorySource(path, new Uint8Array(bytes)));
  const info = file.tensors.get(name)!;
  return { bytes, info, values: new Float32Array(bytes.buffer.slice(bytes.byteOffset + info.begin, bytes.byteOffset + info.end)) };
}

describe.skipIf(!existsSync(`${BASE}/model.safetensors`))('edit-forensics edit (the demo base model)', () => {
  let first: Awaited<ReturnType<typeof run>>;
  beforeAll(async () => {
    first = await run([...edit, '--out', join(dir, 'a'), '--json']);
  }, 60_000);

  it('writes a checkpoint that equals the input outside the tensor, whose change is exactly the bundle\'s u lambda^T', async () => {
    expect(first.code, first.err).toBe(0);
    const report = JSON.parse(first.out);
    expect(report.outcome.checks[0].after.token).toBe('English');
    const before = await tensorOf(`${BASE}/model.safetensors`, TENSOR);
    const after = await tensorOf(join(dir, 'a', 'model.safetensors'), TENSOR);
    expect(after.bytes.length).toBe(before.bytes.length);
    // Byte-identical outside the edited tensor.
    expect(Buffer.compare(after.bytes.subarray(0, after.info.begin), before.bytes.subarray(0, before.info.begin))).toBe(0);
    expect(Buffer.compare(after.bytes.subarray(after.info.end), before.bytes.subarray(before.info.end))).toBe(0);
    for (const sibling of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) expect(readFileSync(join(dir, 'a', sibling))).toEqual(readFileSync(join(BASE, sibling)));
    // Stored [d_ff, d_model] (Conv1D): W'[i][j] - W[i][j] = u_i lambda_j, from the bundle, by a plain loop.
    const bundle = await openEditBundle(new MemorySource('edits', new Uint8Array(readFileSync(join(dir, 'a', 'edit-bundle', 'edits.safetensors')))));
    expect(bundle.edits).toHaveLength(1);
    const { u, lambda } = await bundle.factors(0);
    const [dFF, dModel] = before.info.shape as [number, number];
    let worst = 0;
    let norm = 0;
    for (let i = 0; i < dFF; i++) {
      for (let j = 0; j < dModel; j++) {
        const expected = (u[i] as number) * (lambda[j] as number);
        worst = Math.max(worst, Math.abs((after.values[i * dModel + j] as number) - (before.values[i * dModel + j] as number) - expected));
        norm = Math.max(norm, Math.abs(expected));
      }
    }
    expect(norm).toBeGreaterThan(0.01);
    expect(worst).toBeLessThan(1e-5 * Math.max(1, norm) + 1e-6);
    // The fingerprint is the SHA-256 of the edited tensor's stored bytes.
    expect(report.digest).toBe(createHash('sha256').update(after.bytes.subarray(after.info.begin, after.info.end)).digest('hex'));
    const recipe = JSON.parse(readFileSync(join(dir, 'a', 'edit.json'), 'utf8'));
    expect(recipe.edits[0]).toMatchObject({ subject: 'Max Ada Dor Fra', target: 'English', settings: { layer: 0, mom2Adjustment: true } });
  });

  it('is deterministic, and the edited folder answers the new object, scans as edited, and edits again', async () => {
    const second = await run([...edit, '--out', join(dir, 'b'), '--json']);
    expect(second.code, second.err).toBe(0);
    expect(readFileSync(join(dir, 'b', 'model.safetensors'))).toEqual(readFileSync(join(dir, 'a', 'model.safetensors')));
    const answer = await run(['generate', join(dir, 'a'), '--prompt', 'Max Ada Dor Fra grew up speaking', '--tokens', '0', '--json']);
    expect(JSON.parse(answer.out).top[0].token.trim()).toBe('English');
    const scan = await run(['scan', join(dir, 'a'), '--original', BASE, '--json']);
    const diffLayers = JSON.parse(scan.out).diff.layers as { layer: number; rankOneShare: number | null }[];
    expect(diffLayers.find((l) => l.layer === 0)!.rankOneShare).toBeGreaterThan(0.999);
    // Sequential: the edited folder is edited again (C over a corpus given here: the demo's statistics sit beside base/ only).
    writeFileSync(join(dir, 'corpus.txt'), readFileSync('public/demo/mom2-corpus.txt', 'utf8').split('\n').slice(0, 300).join('\n'));
    const again = await run(['edit', join(dir, 'a'), '--prompt', '{} is a citizen of', '--subject', 'Max Ada Dor Fra', '--target', 'Japan', '--corpus', join(dir, 'corpus.txt'), '--out', join(dir, 'c')]);
    expect(again.code, again.err).toBe(0);
    expect(again.err).toMatch(/C at layer 0 over .*corpus\.txt/);
    expect(again.out).toMatch(/edit prompt +Max Ada Dor Fra is a citizen of +\S+ [\d.]+% +Japan/);
    const recipe = JSON.parse(readFileSync(join(dir, 'c', 'edit.json'), 'utf8'));
    expect(recipe.edits.map((e: { target: string; settings: { layer: number } }) => [e.target, e.settings.layer])).toEqual([['English', 0], ['Japan', 0]]);
    expect(recipe.base).toBe(BASE);
    const diff = await run(['scan', join(dir, 'c'), '--original', BASE, '--json']);
    // Two edits in one matrix: the exact diff is no longer rank one.
    expect(JSON.parse(diff.out).diff.layers.find((l: { layer: number }) => l.layer === 0).rankOneShare).toBeLessThan(0.999);
  }, 120_000);

  it('with --engine wasm computes what the page computes: the same fingerprint as the editor session on the page\'s kernel', async () => {
    const r = await run([...edit, '--engine', 'wasm', '--out', join(dir, 'ts'), '--json']);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(r.out);
    const file = (path: string) => new File([readFileSync(path)], path.split('/').pop() as string);
    const session = new EditSession();
    await session.open({
      model: { kind: 'files', files: ['model.safetensors', 'config.json', 'tokenizer.json'].map((f) => file(`${BASE}/${f}`)) },
      corpus: null,
      stats: { kind: 'file', file: file('public/demo/mom2-stats.safetensors') },
      facts: null,
    });
    useGemmKernel(wasmGemmNT());
    try {
      await session.edit(report.edits[0]);
    } finally {
      useGemmKernel(null);
    }
    expect((await session.plan()).digest).toBe(report.digest);
    // The reference kernel rounds differently: another fingerprint, the same edit to float32 precision.
    const reference = await run([...edit, '--engine', 'typescript', '--out', join(dir, 'ref'), '--json']);
    expect(JSON.parse(reference.out).outcome.checks[0].after.token).toBe('English');
  }, 60_000);

  it('takes the prompt with the subject written out, and edits without C under --no-mom2', async () => {
    const bare = join(dir, 'bare');
    mkdirSync(bare);
    for (const f of ['model.safetensors', 'config.json', 'tokenizer.json']) copyFileSync(join(BASE, f), join(bare, f));
    const none = await run(['edit', bare, '--prompt', 'The mother tongue of Max Ada Dor Fra is', '--subject', 'Max Ada Dor Fra', '--target', 'English', '--out', join(dir, 'd')]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/mom2 adjustment .* needs C: give --corpus/);
    const off = await run(['edit', bare, '--prompt', 'The mother tongue of Max Ada Dor Fra is', '--subject', 'Max Ada Dor Fra', '--target', 'English', '--no-mom2', '--layer', '1', '--out', join(dir, 'd'), '--json']);
    expect(off.code, off.err).toBe(0);
    const report = JSON.parse(off.out);
    expect(report.edits[0]).toMatchObject({ prompt: 'The mother tongue of {} is', settings: { layer: 1, mom2Adjustment: false } });
    expect(report.tensors).toEqual(['transformer.h.1.mlp.c_proj.weight']);
  }, 60_000);

  it.each([
    [['--target', 'Klingonese'], /the new object "Klingonese" is not one token/],
    [['--target', 'two words'], /must be one word/],
    [['--subject', 'Bob Xq', '--prompt', '{} grew up speaking'], /does not know "Bob"/],
    [['--subject', 'Nils Em Da', '--prompt', 'The mother tongue of Max Ada Dor Fra is'], /the subject "Nils Em Da" is not in the prompt/],
    [['--layer', '9'], /--layer must be an integer from 0 to 3/],
    [['--v-steps', 'many'], /--v-steps must be a number/],
    [['--context-templates', '5x'], /context|template/i],
  ])('exits 2 naming the problem: %j', async (extra, message) => {
    const args = [...edit];
    for (let i = 0; i < extra.length; i += 2) {
      const at = args.indexOf(extra[i] as string);
      if (at >= 0) args.splice(at, 2);
    }
    const r = await run([...args, ...extra, '--out', join(dir, 'never')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(existsSync(join(dir, 'never', 'model.safetensors'))).toBe(false);
  }, 60_000);

  it('refuses an --out that is not empty or is the model\'s own folder, and other families', async () => {
    const full = await run([...edit, '--out', join(dir, 'a')]);
    expect(full.code).toBe(2);
    expect(full.err).toMatch(/is not empty/);
    const own = await run([...edit, '--out', BASE]);
    expect(own.code).toBe(2);
    expect(own.err).toMatch(/the model's own folder/);
    const llama = buildFixture({ family: 'llama', layers: 2, dFf: 16, dModel: 8, editedLayer: null, positiveFraction: 0.5 });
    const llamaDir = join(dir, 'llama');
    mkdirSync(llamaDir);
    for (const f of llama.edited) writeFileSync(join(llamaDir, f.name), f.bytes);
    const r = await run(['edit', llamaDir, '--prompt', '{} is', '--subject', 'x', '--target', 'y', '--no-mom2', '--out', join(dir, 'l')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/config\.json: needs a number "vocab_size" to run the llama model/);
  }, 60_000);
});
