import { closeSync, copyFileSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { SeededRandom } from '../src/core/random';
import { float32ToFloat16Bits } from '../src/formats/dtypes';
import { assemble } from '../src/formats/safetensorsWriter';
import { viewTab } from './views';

/**
 * A GPT-2 checkpoint too large for the page's 4 GiB WebAssembly runtime (a 524,288-token embedding of width
 * 2048, tied to the output: 1.11 B parameters, 4.5 GiB in float32; kept in F16 it would take more, the tied
 * head's float32 cast included), written sparse: only the MLP matrix holds bytes, the rest is a hole, so the
 * 2.2 GB file costs no disk and the scan still has a real matrix to read.
 */
function writeOversizedGpt2(dir: string): string[] {
  const [v, d, ff] = [524288, 2048, 8192];
  return writeSparseGpt2(dir, v, d, ff, [
    ['transformer.wte.weight', [v, d]],
    ['transformer.wpe.weight', [1024, d]],
    ['transformer.h.0.mlp.c_fc.weight', [d, ff]],
    ['transformer.h.0.mlp.c_proj.weight', [ff, d]],
    ['transformer.ln_f.weight', [d]],
  ]);
}

/** Every tensor of a one-layer GPT-2: a checkpoint the language model can open, not only the scan. */
function wholeGpt2(v: number, d: number, ff: number): [string, number[]][] {
  const h = 'transformer.h.0.';
  return [
    ['transformer.wte.weight', [v, d]],
    ['transformer.wpe.weight', [1024, d]],
    [`${h}ln_1.weight`, [d]],
    [`${h}ln_1.bias`, [d]],
    [`${h}attn.c_attn.weight`, [d, 3 * d]],
    [`${h}attn.c_attn.bias`, [3 * d]],
    [`${h}attn.c_proj.weight`, [d, d]],
    [`${h}attn.c_proj.bias`, [d]],
    [`${h}ln_2.weight`, [d]],
    [`${h}ln_2.bias`, [d]],
    [`${h}mlp.c_fc.weight`, [d, ff]],
    [`${h}mlp.c_fc.bias`, [ff]],
    [`${h}mlp.c_proj.weight`, [ff, d]],
    [`${h}mlp.c_proj.bias`, [d]],
    ['transformer.ln_f.weight', [d]],
    ['transformer.ln_f.bias', [d]],
  ];
}

/** A one-layer GPT-2 checkpoint (F16) of these tensors, written sparse: only its MLP output matrix holds bytes. */
function writeSparseGpt2(dir: string, v: number, d: number, ff: number, tensors: [string, number[]][]): string[] {
  const header: Record<string, unknown> = {};
  let offset = 0;
  const at = new Map<string, number>();
  for (const [name, shape] of tensors) {
    const size = 2 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'F16', shape, data_offsets: [offset, offset + size] };
    at.set(name, offset);
    offset += size;
  }
  const head = assemble(JSON.stringify(header), []);
  const path = join(dir, 'model.safetensors');
  const fd = openSync(path, 'w');
  writeSync(fd, head);
  const rng = new SeededRandom(5);
  const mlp = Uint16Array.from(rng.gaussianArray(ff * d), (x) => float32ToFloat16Bits(0.02 * x));
  writeSync(fd, new Uint8Array(mlp.buffer), 0, mlp.byteLength, head.length + (at.get('transformer.h.0.mlp.c_proj.weight') as number));
  closeSync(fd);
  // The holes: extend the file to its full length without writing them.
  const sized = openSync(path, 'r+');
  ftruncateSync(sized, head.length + offset);
  closeSync(sized);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2', vocab_size: v, n_positions: 1024, n_embd: d, n_layer: 1, n_head: 16, layer_norm_epsilon: 1e-5 }));
  copyFileSync('public/demo/base/tokenizer.json', join(dir, 'tokenizer.json'));
  return ['model.safetensors', 'config.json', 'tokenizer.json'].map((f) => join(dir, f));
}

test('a model too large for the page says so before it is loaded, and a prompt is refused by name without a crash', async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'ef-e2e-oversized-'));
  try {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('/?model=none');
    await page.getByTestId('model-drop-input').setInputFiles(writeOversizedGpt2(dir));
    await page.getByRole('button', { name: 'Scan for edits' }).click();
    await expect(page.getByTestId('verdict')).toBeVisible({ timeout: 60_000 });
    await viewTab(page, 'Prompt').click();
    const needs = page.getByTestId('run-needs');
    await expect(needs).toContainText(/This model needs about 4\.5 GiB to run \(1\.11 B parameters, 2\.1 GiB as stored, held as float32, with room for activations\), but this page's WebAssembly runtime holds at most 4 GiB/);
    await expect(needs).toContainText('edit-forensics generate');
    await page.getByRole('textbox', { name: 'Prompt' }).fill('The mother tongue of Nils Em Da is');
    await page.getByRole('button', { name: 'Run' }).click();
    await expect(page.getByRole('alert')).toContainText(/model\.safetensors.*needs about 4\.5 GiB/, { timeout: 30_000 });
    // Still usable: the layer view answers.
    await viewTab(page, 'All layers').click();
    await expect(page.getByTestId('verdict')).toBeVisible();
    expect(errors).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a scanned model opens in the background only when it is small: a large one waits for the first prompt, shows its opening and can cancel it', async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'ef-e2e-large-'));
  try {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // The demo (a few MB): its language model is open before anyone asks.
    await page.goto('/?model=demo');
    await expect(page.getByTestId('verdict')).toBeVisible({ timeout: 60_000 });
    await viewTab(page, 'Prompt').click();
    await expect(page.getByTestId('prompt-info')).toContainText('gpt2 model', { timeout: 60_000 });
    // 187 M parameters (about 0.7 GiB as float32; it fits the page's runtime): said, not loaded.
    await viewTab(page, 'All layers').click();
    const [v, d, ff] = [65536, 2048, 8192];
    await page.getByTestId('model-drop-input').setInputFiles(writeSparseGpt2(dir, v, d, ff, wholeGpt2(v, d, ff)));
    await page.getByRole('button', { name: 'Scan for edits' }).click();
    await expect(page.getByTestId('verdict')).toBeVisible({ timeout: 60_000 });
    await viewTab(page, 'Prompt').click();
    const needs = page.getByTestId('run-needs');
    await expect(needs).toContainText(/Running this model takes about [\d.]+ MiB in the page's WebAssembly runtime \(187 M parameters as float32\); the model opens at the first prompt\./);
    // Long enough for the background opening this model would otherwise get (it opened 6.4 s after this
    // point when every scanned model did).
    await page.waitForTimeout(30_000);
    await expect(needs).toBeVisible();
    await expect(page.getByTestId('prompt-info')).toHaveCount(0);
    // Asked: it opens, saying how far it is and for how long.
    await page.getByRole('textbox', { name: 'Prompt' }).fill('The mother tongue of Nils Em Da is');
    await page.getByRole('button', { name: 'Run' }).click();
    await expect(page.getByTestId('prompt-opening-progress')).toContainText(/reading the weights: [\d.]+ \w+ of [\d.]+ MiB|opening the session/, { timeout: 30_000 });
    await expect(page.getByTestId('prompt-opening-time')).toContainText('elapsed');
    // Cancel stops it between two weights; Run opens it again.
    await page.getByRole('region', { name: 'prompt panel' }).getByRole('button', { name: 'Cancel' }).click();
    await expect(page.getByRole('alert')).toContainText('Cancelled: the model was not opened', { timeout: 30_000 });
    await expect(page.getByTestId('prompt-info')).toHaveCount(0);
    await page.getByRole('button', { name: 'Run' }).click();
    await expect(page.getByTestId('prompt-info')).toContainText('gpt2 model', { timeout: 120_000 });
    expect(errors).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
