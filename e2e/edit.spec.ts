import { readFileSync } from 'node:fs';
import { expect, type Page, test } from '@playwright/test';
import { fixturePaths } from './fixtureFiles';
import { viewTab } from './views';

/**
 * The Edit tab (ROME in the page): an edit of the demo's base becomes the model under study; the Prompt tab
 * answers the new object, the scan flags the layer, dropping the top component restores the old answer, and
 * the page's link recomputes the same weights in a fresh browser.
 */
const SUBJECT = 'Nils Em Da';
const PROMPT = '{} is a citizen of';
const OLD = 'Germany';
const NEW = 'France';
const FILLED = PROMPT.replace('{}', SUBJECT);

function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  return errors;
}

async function layerTable(page: Page): Promise<string> {
  await viewTab(page, 'All layers').click();
  return (await page.getByTestId('layer-table').innerText()).trim();
}

test('an edit made in the page is the model under study in every tab, and its link recomputes the same weights', async ({ page, browser }) => {
  const errors = watchErrors(page);
  await page.goto('/');
  await expect(page.getByTestId('verdict')).toBeVisible({ timeout: 120_000 });
  await viewTab(page, 'Edit').click();
  await expect(page.getByTestId('edit-base')).toContainText('GPT-2 demo’s unedited base (demo/base/)', { timeout: 60_000 });
  // The subject's facts are listed; choosing one fills the prompt with its relation's first template.
  await page.getByTestId('edit-subject').fill(SUBJECT);
  await expect(page.getByTestId('subject-facts')).toContainText(OLD);
  await page.getByTestId('edit-prompt').fill(PROMPT);
  await page.getByTestId('edit-target').fill(NEW);
  await page.getByTestId('edit-run').click();
  await expect(page.getByTestId('loss-chart')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('edit-list')).toContainText(`“${FILLED}” → ${NEW} at layer 0`, { timeout: 120_000 });
  await expect(page.getByTestId('edit-checks')).toContainText(`${OLD} (`);
  await expect(page.getByTestId('edit-summary')).toContainText('efficacy: 1 of 1');
  // The edited model is on screen, compared with the base it started from.
  await expect(page.getByTestId('verdict')).toHaveCount(0);
  await expect(viewTab(page, 'Diff')).toBeVisible({ timeout: 60_000 });
  const digest = (await page.getByTestId('edit-digest').locator('code').innerText()).trim();
  expect(digest).toMatch(/^[0-9a-f]{16}$/);
  const table = await layerTable(page);
  await expect(page.getByTestId('verdict')).toHaveText('Layer 0 differs from the original.');

  // Prompt: the edited model answers the new object, the original the old one, and dropping the top
  // component of the edited layer (the k = 1 repair) brings the old answer back.
  await viewTab(page, 'Prompt').click();
  await page.getByLabel('Prompt', { exact: true }).fill(FILLED);
  await page.getByRole('button', { name: 'Run' }).click();
  await expect(page.getByRole('region', { name: 'Loaded model (edited)' }).locator('.top-tokens li').first()).toContainText(NEW, { timeout: 90_000 });
  await expect(page.getByRole('region', { name: 'Original matrix' }).locator('.top-tokens li').first()).toContainText(OLD);
  await expect(page.getByRole('region', { name: /Approximated/ }).locator('.top-tokens li').first()).toContainText(OLD);

  // Trace names a relation for the edited layer (the demo's probe and decoder run on the edited weights).
  await viewTab(page, 'Trace').click();
  await page.getByRole('button', { name: 'Trace layer 0' }).click();
  await expect(page.getByTestId('predicted-relation')).toContainText('Predicted relation: P', { timeout: 240_000 });

  // Downloads: the edited checkpoint (same size as the base, other bytes) and the edit bundle.
  await viewTab(page, 'Edit').click();
  const [checkpoint] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-edited').click()]);
  expect(checkpoint.suggestedFilename()).toMatch(/^model\.edited-1-[0-9a-f]{8}\.safetensors$/);
  const edited = readFileSync((await checkpoint.path()) as string);
  const base = readFileSync('public/demo/base/model.safetensors');
  expect(edited.length).toBe(base.length);
  expect(edited.equals(base)).toBe(false);
  const [bundle] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-edits').click()]);
  expect(bundle.suggestedFilename()).toBe('edits-1.safetensors');
  expect(readFileSync((await bundle.path()) as string).subarray(8, 200).toString('utf8')).toContain('"edits"');

  // The address bar carries the edit; a fresh browser recomputes it: same fingerprint, same report.
  const link = page.url();
  expect(link).toContain('edits=');
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  const otherErrors = watchErrors(other);
  await other.goto(link);
  await expect(other.getByTestId('edited-files')).toContainText('1 edit of the GPT-2 demo’s unedited base', { timeout: 120_000 });
  await viewTab(other, 'Edit').click();
  await expect(other.getByTestId('edit-list')).toContainText(`“${FILLED}” → ${NEW} at layer 0`, { timeout: 120_000 });
  await expect(other.getByTestId('edit-digest').locator('code')).toHaveText(digest, { timeout: 60_000 });
  expect(await layerTable(other)).toBe(table);
  await fresh.close();
  expect(otherErrors).toEqual([]);
  expect(errors).toEqual([]);
});

test('the strength slider moves the signature and the answer; undo restores the model; unknown words are refused', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/?panel=edit');
  await expect(page.getByTestId('edit-base')).toContainText('GPT-2 demo’s unedited base (demo/base/)', { timeout: 120_000 });
  await page.getByTestId('edit-subject').fill(SUBJECT);
  await page.getByTestId('edit-prompt').fill(PROMPT);
  await page.getByTestId('edit-target').fill('Atlantis');
  await page.getByTestId('edit-run').click();
  await expect(page.getByTestId('edit-error')).toContainText('"Atlantis" is not one token');
  await page.getByTestId('edit-target').fill(NEW);
  await page.getByTestId('edit-run').click();
  await expect(page.getByTestId('edit-list')).toContainText(NEW, { timeout: 120_000 });
  // On a phone the edit's checks, statistics and charts fit the width (tables scroll in their own box).
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(page.getByTestId('strength-stats')).not.toContainText('scanning…', { timeout: 60_000 });
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await page.setViewportSize({ width: 1280, height: 720 });
  const pcsAt = async (s: number) => {
    await page.getByRole('button', { name: `s = ${s}`, exact: true }).click();
    await expect(page.getByTestId('strength-value')).toHaveText(String(s));
    await expect(page.getByTestId('strength-answer')).not.toHaveText('computing…', { timeout: 60_000 });
    await expect(page.getByTestId('strength-stats')).not.toContainText('scanning…', { timeout: 60_000 });
    const text = await page.getByTestId('strength-stats').innerText();
    return { text, pcs: Number(/pcs\s+([0-9.e+-]+)/.exec(text)?.[1]), sigmaRatio: Number(/σ1\/σ2\s+([0-9.]+)/.exec(text)?.[1]) };
  };
  // s = 0 is the base model exactly; s = 1 the edit as ROME made it; s = 100 overshoots (the answer breaks)
  // but the signature keeps growing.
  const zero = await pcsAt(0);
  expect(zero.text).toContain(`${OLD} (`);
  expect(zero.text).toContain('not flagged');
  const one = await pcsAt(1);
  expect(one.text).toContain(`${NEW} (`);
  expect(one.text).toContain('flagged as edited');
  const hundred = await pcsAt(100);
  expect(hundred.text).toContain('flagged as edited');
  expect([zero.pcs, one.pcs, hundred.pcs].every(Number.isFinite)).toBe(true);
  expect(hundred.pcs).not.toBe(zero.pcs);
  expect(hundred.sigmaRatio).toBeGreaterThan(one.sigmaRatio);
  expect(one.sigmaRatio).toBeGreaterThan(zero.sigmaRatio);
  // A second edit on top of the first (s back to 1): the exact diff against the base has rank 2.
  await pcsAt(1);
  await page.getByTestId('edit-subject').fill('Max Ada Dor Fra');
  await page.getByTestId('edit-prompt').fill(PROMPT);
  await page.getByTestId('edit-target').fill('Japan');
  await page.getByTestId('edit-run').click();
  await expect(page.getByTestId('edit-list').locator('li')).toHaveCount(2, { timeout: 120_000 });
  await viewTab(page, 'Diff').click();
  const layer0 = page.getByTestId('diff-view').locator('tbody tr').first();
  await expect(layer0.locator('td').first()).toHaveText('0', { timeout: 60_000 });
  await expect(layer0.locator('td').nth(3)).toHaveText('2');
  await viewTab(page, 'Edit').click();
  // Undo twice brings back what was on screen before: the demo.
  await page.getByTestId('edit-undo').click();
  await expect(page.getByTestId('edit-list').locator('li')).toHaveCount(1, { timeout: 60_000 });
  await page.getByTestId('edit-undo').click();
  await expect(page.getByTestId('edit-list')).toHaveCount(0, { timeout: 60_000 });
  await viewTab(page, 'All layers').click();
  await expect(page.getByTestId('verdict')).toHaveText('Layer 0 looks edited.', { timeout: 60_000 });
  expect(errors).toEqual([]);
});

test('a dropped GPT-2 checkpoint is edited with C over the demo\'s text, said so; another family is refused with what is missing', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/?model=none');
  await page.getByTestId('model-drop-input').setInputFiles(['model.safetensors', 'config.json', 'tokenizer.json'].map((f) => `public/demo/base/${f}`));
  await page.getByRole('button', { name: 'Scan for edits' }).click();
  await expect(page.getByTestId('layer-table')).toBeVisible({ timeout: 120_000 });
  await viewTab(page, 'Edit').click();
  await expect(page.getByTestId('edit-base')).toContainText('computed over the demo’s corpus (mom2-corpus.txt): this model has none of its own here', { timeout: 60_000 });
  await page.getByTestId('edit-subject').fill(SUBJECT);
  await page.getByTestId('edit-prompt').fill(PROMPT);
  await page.getByTestId('edit-target').fill(NEW);
  await page.getByTestId('edit-run').click();
  await expect(page.getByTestId('edit-list')).toContainText(`“${FILLED}” → ${NEW} at layer`, { timeout: 120_000 });
  await expect(page.getByTestId('edited-files')).toBeVisible();

  await page.getByTestId('model-drop-input').setInputFiles(fixturePaths('llamaSharded'));
  await page.getByRole('button', { name: 'Scan for edits' }).click();
  await expect(page.getByTestId('layer-table')).toBeVisible({ timeout: 120_000 });
  await viewTab(page, 'Edit').click();
  await expect(page.getByTestId('edit-list')).toHaveCount(0);
  await expect(page.getByTestId('edit-error')).toContainText('config.json: needs a number "vocab_size" to run the llama model', { timeout: 60_000 });
  expect(errors).toEqual([]);
});
