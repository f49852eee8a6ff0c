import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, type Page, test } from '@playwright/test';
import { viewTab } from './views';

/**
 * The three demo models (the paper's three families): a link names one, the picker switches between them,
 * each shows its own edit and architecture, and nothing of one survives on another.
 */
interface DemoEdit {
  layer: number;
  subject: string;
  prompt: string;
  newObject: string;
}
const editOf = (folder: string) => JSON.parse(readFileSync(`public/${folder}/edited/EDIT.json`, 'utf8')) as DemoEdit;
const configOf = (folder: string) => JSON.parse(readFileSync(`public/${folder}/base/config.json`, 'utf8')) as Record<string, number | string>;

function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  return errors;
}

async function scanned(page: Page) {
  await expect(viewTab(page, 'All layers')).toBeVisible({ timeout: 120_000 });
}

test('?model=demo-llama opens the Llama demo: its card, its architecture, its link, and its edit answers in the Prompt tab', async ({ page }) => {
  const errors = watchErrors(page);
  const edit = editOf('demo-llama');
  await page.goto('/?model=demo-llama');
  await scanned(page);
  await expect(page.getByTestId('demo-picker')).toHaveValue('demo-llama');
  const card = page.getByTestId('demo-card');
  await expect(card).toContainText('This is the Llama demo model');
  await expect(card).toContainText(`d_ff ${configOf('demo-llama')['intermediate_size']}`);
  await expect(card).toContainText('EasyEdit’s llama3-8b setting');
  await expect(page.getByTestId('demo-files')).toContainText('demo-llama/edited/');
  await expect(page.getByTestId('demo-files')).toContainText('?model=demo-llama');
  // The layer table lists the Llama model's layers, read from model.layers.{i}.mlp.down_proj.
  await expect(page.getByTestId('layer-table').locator('tbody tr')).toHaveCount(Number(configOf('demo-llama')['num_hidden_layers']));
  await card.getByRole('button', { name: 'Prompt' }).click();
  await expect(page.getByRole('region', { name: 'Loaded model (edited)' }).locator('.top-tokens li').first()).toContainText(edit.newObject, { timeout: 60_000 });
  // From its weights alone the verdict misses this balanced Llama edit (README: detection on the three demos); the card
  // says so, and its diff against the unedited base shows the edit exactly: one layer, rank one.
  await viewTab(page, 'All layers').click();
  await expect(page.getByTestId('verdict')).toHaveText('No layer looks edited.');
  await expect(card.getByTestId('demo-unflagged')).toContainText(`does not flag layer ${edit.layer}`);
  await card.getByRole('button', { name: 'Diff against its unedited base' }).click();
  const rows = page.locator('[data-testid=diff-view] tbody tr');
  await expect(rows).toHaveCount(Number(configOf('demo-llama')['num_hidden_layers']), { timeout: 120_000 });
  await expect(rows.nth(edit.layer).locator('td').nth(2)).toHaveText('1.00000');
  for (let l = 0; l < Number(configOf('demo-llama')['num_hidden_layers']); l++) if (l !== edit.layer) await expect(rows.nth(l).locator('td').nth(1)).toHaveText('0 (identical)');
  // The diff travels in the share link: a fresh page diffs the demo against its base again.
  await page.getByRole('button', { name: 'Copy link' }).click();
  const link = new URL(await page.getByTestId('share-link').inputValue());
  expect(link.searchParams.get('original')).toBe('base');
  const fresh = await page.context().newPage();
  await fresh.goto(`${link.pathname}${link.search}`);
  await expect(fresh.locator('[data-testid=diff-view] tbody tr').nth(edit.layer).locator('td').nth(2)).toHaveText('1.00000', { timeout: 120_000 });
  expect(errors).toEqual([]);
});

test('the picker switches demos: the GPT-J demo replaces the GPT-2 one, its share link names it, and a fresh page opens it again', async ({ page, context }) => {
  const errors = watchErrors(page);
  await page.goto('/');
  await scanned(page);
  await expect(page.getByTestId('demo-card')).toContainText('This is the GPT-2 demo model');
  await page.getByTestId('demo-picker').selectOption('demo-gptj');
  await expect(page.getByTestId('demo-card')).toContainText('This is the GPT-J demo model', { timeout: 120_000 });
  await scanned(page);
  await expect(page.getByTestId('demo-files')).toContainText('demo-gptj/edited/');
  await expect(page.getByTestId('layer-table').locator('tbody tr')).toHaveCount(Number(configOf('demo-gptj')['n_layer']));
  const gptjEdit = editOf('demo-gptj');
  await expect(page.getByTestId('demo-card')).toContainText(`${gptjEdit.prompt.replace('{}', gptjEdit.subject)}`);
  // It opens flagged from its weights alone, by the key-whitened rule (the cross-layer rules miss it), with its chart.
  await expect(page.getByTestId('verdict')).toHaveText(`Layer ${gptjEdit.layer} looks edited.`);
  await expect(page.getByTestId('findings')).toContainText('whitened by the layer\'s own keys');
  await expect(page.getByTestId('key-gap-chart')).toBeVisible();
  await expect(page.getByTestId('demo-card').getByTestId('demo-unflagged')).toHaveCount(0);
  // The share link carries the choice.
  await page.getByRole('button', { name: 'Copy link' }).click();
  const link = await page.getByTestId('share-link').inputValue();
  expect(link).toContain('model=demo-gptj');
  const fresh = await context.newPage();
  const url = new URL(link);
  await fresh.goto(`${url.pathname}${url.search}`);
  await scanned(fresh);
  await expect(fresh.getByTestId('demo-picker')).toHaveValue('demo-gptj');
  await expect(fresh.getByTestId('demo-card')).toContainText('This is the GPT-J demo model');
  expect(errors).toEqual([]);
});

test('Trace on the Llama demo: its own probe and decoder (the CPU engine runs Llama), the same answer as the CLI', async ({ page }) => {
  test.setTimeout(300_000);
  const errors = watchErrors(page);
  await page.goto('/?model=demo-llama');
  await scanned(page);
  await viewTab(page, 'Trace').click();
  await page.getByRole('button', { name: 'Trace layer 0' }).click();
  await expect(page.getByTestId('predicted-relation')).toContainText('Predicted relation: P', { timeout: 240_000 });
  await expect(page.getByTestId('probe-status')).toContainText('Loaded: demo-llama relation-probe.json, 31 relations, layer 0');
  await expect(page.getByTestId('decoder-candidates').locator('tbody tr')).toHaveCount(5);
  // Tab. 1 measured this probe near chance on the Llama demo: the page says to read it as a hint.
  await expect(page.getByTestId('weak-probe')).toBeVisible();
  await expect(page.getByTestId('trace-result')).toContainText('The training-free readout runs on GPT-2 models');
  const cli = JSON.parse(execFileSync('node', ['bin/edit-forensics.mjs', 'trace', 'public/demo-llama/edited', '--original', 'public/demo-llama/base', '--probe', 'public/demo-llama/relation-probe.json', '--decoder', 'public/demo-llama/object-decoder.safetensors', '--backend', 'cpu', '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 }));
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export JSON' }).click();
  const ui = JSON.parse(readFileSync(await (await download).path(), 'utf8'));
  expect(ui.relation.map((r: { relation: string }) => r.relation)).toEqual(cli.relation.map((r: { relation: string }) => r.relation));
  expect(ui.decoder.candidates.map((c: { text: string }) => c.text)).toEqual(cli.decoder.candidates.map((c: { text: string }) => c.text));
  expect(errors).toEqual([]);
});
