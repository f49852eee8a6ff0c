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
  const tensors: [string, number[]][] = [
    ['transformer.wte.weight', [v, d]],
    ['transformer.wpe.weight', [1024, d]],
    ['transformer.h.0.mlp.c_fc.weight', [d, ff]],
    ['transformer.h.0.mlp.c_proj.weight', [ff, d]],
    ['transformer.ln_f.weight', [d]],
  ];
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
