import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { viewTab } from './views';

test('the demo: reversal over 31 edits equals the CLI, and the repaired model downloads byte-identical outside its layer', async ({ page }) => {
  test.setTimeout(600_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await expect(page.getByTestId('verdict')).toHaveText('Layer 0 looks edited.', { timeout: 120_000 });
  await viewTab(page, 'Reverse').click();
  await page.getByLabel('edits per relation').fill('1');
  await page.getByRole('button', { name: 'Run reversal' }).click();
  await expect(page.getByTestId('reversal-summary')).toContainText('31 edits at layer 0', { timeout: 480_000 });

  // The same experiment from the command line (Node, onnxruntime-web wasm): the same numbers.
  const cli = JSON.parse(execFileSync('node', ['bin/edit-forensics.mjs', 'reverse', 'public/demo/base', '--layer', '0', '--edits', 'public/demo/edits.safetensors', '--per-relation', '1', '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 }));
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export JSON' }).click();
  const ui = JSON.parse(readFileSync(await (await download).path(), 'utf8'));
  expect(ui.bestK).toBe(cli.reversal.bestK);
  expect(ui.reversal.map((m: { mean: number }) => m.mean)).toEqual(cli.reversal.reversal.map((m: { mean: number }) => m.mean));
  expect(ui.editing.map((m: { mean: number }) => m.mean)).toEqual(cli.reversal.editing.map((m: { mean: number }) => m.mean));
  await expect(page.getByTestId('reversal-table').locator('tbody tr')).toHaveCount(16);
  await expect(page.getByTestId('reversal-chart')).toBeVisible();

  // The repaired checkpoint at the best k: same size, same bytes before and after the layer's tensor.
  const saved = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download repaired model' }).click();
  const file = await saved;
  expect(file.suggestedFilename()).toBe('model.repaired-layer0-k1.safetensors');
  const repaired = readFileSync(await file.path());
  const input = readFileSync('public/demo/edited/model.safetensors');
  expect(repaired.length).toBe(input.length);
  const header = JSON.parse(input.subarray(8, 8 + Number(input.readBigUInt64LE(0))).toString('utf8'));
  const start = 8 + Number(input.readBigUInt64LE(0));
  const [begin, end] = header['h.0.mlp.c_proj.weight']?.data_offsets ?? header['transformer.h.0.mlp.c_proj.weight'].data_offsets;
  expect(repaired.subarray(0, start + begin).equals(input.subarray(0, start + begin))).toBe(true);
  expect(repaired.subarray(start + end).equals(input.subarray(start + end))).toBe(true);
  expect(repaired.subarray(start + begin, start + end).equals(input.subarray(start + begin, start + end))).toBe(false);
  await expect(page.getByTestId('repair-message')).toContainText('identical to the input except this layer');

  // The prompt panel's approximated column answers with the original object again.
  await viewTab(page, 'Prompt').click();
  const edit = JSON.parse(readFileSync('public/demo/edited/EDIT.json', 'utf8')) as { subject: string; prompt: string; trueObject: string; newObject: string };
  await page.getByRole('textbox', { name: 'Prompt' }).fill(edit.prompt.replace('{}', edit.subject));
  await page.getByRole('button', { name: 'Run' }).click();
  await expect(page.getByRole('region', { name: 'Loaded model (edited)' }).locator('.top-tokens li').first()).toContainText(edit.newObject, { timeout: 120_000 });
  await expect(page.getByRole('region', { name: 'Approximated (top 1 dropped)' }).locator('.top-tokens li').first()).toContainText(edit.trueObject);
  expect(errors).toEqual([]);
});
