import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { RELATIONS } from '../src/edit/relations';
import { fixturePaths } from './fixtureFiles';
import { viewTab } from './views';

/**
 * A first visit as a newcomer makes it (the first-visit issue): the demo explains itself, the verdict says
 * why, shared links work from a fresh browser and recompute what they show, nothing stale survives a new
 * model, the charts read right on log scale and on a phone.
 */
const EDIT = JSON.parse(readFileSync('public/demo/edited/EDIT.json', 'utf8')) as { layer: number; subject: string; prompt: string; relation: string; trueObject: string; newObject: string };
const EDIT_PROMPT = EDIT.prompt.replace('{}', EDIT.subject);

function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  return errors;
}

async function openDemo(page: Page, query = '') {
  await page.goto(`/${query}`);
  // The view tabs appear once the scan is done (a link may open another view than the verdict's).
  await expect(tab(page, 'All layers')).toBeVisible({ timeout: 120_000 });
  if (!query.includes('panel=')) await expect(page.getByTestId('verdict')).toHaveText(`Layer ${EDIT.layer} looks edited.`);
}

const tab = viewTab;

async function drop(page: Page, selector: string, paths: string[]) {
  const files = paths.map((p) => ({ name: basename(p), base64: readFileSync(p).toString('base64') }));
  const dataTransfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name));
    return dt;
  }, files);
  await page.dispatchEvent(selector, 'drop', { dataTransfer });
}

test('the demo explains itself: a card with the known edit and links into the views, and the verdict says why', async ({ page }) => {
  const errors = watchErrors(page);
  await openDemo(page);
  const card = page.getByTestId('demo-card');
  await expect(card).toContainText(`${EDIT_PROMPT}” ${EDIT.trueObject} → ${EDIT.newObject}`);
  await expect(card).toContainText(`at layer ${EDIT.layer}`);
  await expect(page.getByTestId('findings')).toContainText(new RegExp(`layer ${EDIT.layer}: (pcs|sigma1/sigma2) .* robust z above the other layers \\(threshold 6`));
  // Every term has its explanation on focus, and the glossary lists them.
  await expect(page.getByTestId('layer-table').locator('.term').first()).toHaveAttribute('title', /Pairwise cosine similarity/);
  await expect(page.getByTestId('glossary')).toContainText('σ1/σ2');
  await card.getByRole('button', { name: `Layer ${EDIT.layer}` }).click();
  await expect(tab(page, `Layer ${EDIT.layer}`)).toHaveAttribute('aria-pressed', 'true');
  // The Prompt link asks the edit prompt and shows the known answer beside the computed ones.
  await tab(page, 'All layers').click();
  await page.getByTestId('demo-card').getByRole('button', { name: 'Prompt' }).click();
  await expect(page.getByTestId('known-answer')).toContainText(`before the edit the model said ${EDIT.trueObject}; ROME changed it to ${EDIT.newObject}`);
  await expect(page.getByRole('region', { name: 'Loaded model (edited)' }).locator('.top-tokens li').first()).toContainText(EDIT.newObject, { timeout: 60_000 });
  expect(errors).toEqual([]);
});

test('a shared link with a prompt answers in a fresh browser, and answers again', async ({ page }) => {
  const errors = watchErrors(page);
  await openDemo(page, `?model=demo&panel=prompt&k=1&prompt=${encodeURIComponent(EDIT_PROMPT)}`);
  const loaded = page.getByRole('region', { name: 'Loaded model (edited)' });
  await expect(loaded.locator('.top-tokens li').first()).toContainText(EDIT.newObject, { timeout: 60_000 });
  await expect(page.getByRole('region', { name: 'Original matrix' }).locator('.top-tokens li').first()).toContainText(EDIT.trueObject);
  await expect(page.getByRole('region', { name: 'Approximated (top 1 dropped)' })).toBeVisible();
  await page.getByRole('button', { name: 'Run' }).click();
  await expect(page.getByRole('button', { name: 'Run' })).toBeEnabled();
  await expect(loaded.locator('.top-tokens li').first()).toContainText(EDIT.newObject);
  // Not on the software WebGPU adapter: the language model runs on wasm.
  await expect(page.getByTestId('prompt-info')).toContainText('on the CPU (wasm)');
  expect(errors).toEqual([]);
});

test('unknown words are named, and the demo offers its own prompts', async ({ page }) => {
  await openDemo(page);
  await tab(page, 'Prompt').click();
  await page.getByRole('textbox', { name: 'Prompt' }).fill('The mother tongue of Barack Obama is');
  await page.getByRole('button', { name: 'Run' }).click();
  await expect(page.getByTestId('unknown-words')).toContainText('“Barack”, “Obama”', { timeout: 60_000 });
  const templates = RELATIONS.find((r) => r.id === EDIT.relation)!.templates;
  await expect(page.getByTestId('demo-prompts').locator('option')).toHaveCount(templates.length + 1);
});

test('nothing stale survives a new model, and the address bar follows', async ({ page }) => {
  await openDemo(page, '?model=demo&panel=trace');
  // A trace link recomputes the trace (not only the controls).
  await expect(page.getByTestId('trace-result')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('known-trace')).toContainText(`new object ${EDIT.newObject}`);
  await expect(page.getByTestId('predicted-relation')).toContainText('“');
  await drop(page, '#model-drop', fixturePaths('gpt2'));
  // The demo's results, card and trace disappear at once; the link no longer names the demo.
  await expect(page.getByTestId('verdict')).toHaveCount(0);
  await expect(page.getByTestId('demo-card')).toHaveCount(0);
  await expect(page.getByTestId('demo-files')).toHaveCount(0);
  await expect.poll(() => new URL(page.url()).searchParams.get('model')).toBe('none');
  await page.getByRole('button', { name: 'Scan for edits' }).click();
  await expect(page.getByTestId('verdict')).toHaveText('Layer 3 looks edited.');
  await tab(page, 'Trace').click();
  await expect(page.getByTestId('trace-result')).toHaveCount(0);
  await expect(page.getByTestId('probe-status')).toContainText('None loaded: train one');
});

test('a reverse link runs the experiment; Cancel keeps the partial results, with elapsed time shown', async ({ page }) => {
  await openDemo(page, '?model=demo&panel=reverse&k=1');
  await expect(page.getByTestId('reversal-progress')).toContainText(/edit \d+ of/, { timeout: 60_000 });
  await expect(page.getByTestId('reversal-time')).toContainText('elapsed');
  await expect(page.getByTestId('reversal-progress')).toContainText(/edit (1[0-9]|[2-9][0-9]) of/, { timeout: 120_000 });
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId('reversal-partial')).toContainText(/Partial \(cancelled\): \d+ of \d+ edits/);
  await expect(page.getByTestId('reversal-chart')).toBeVisible();
});

test('log scale draws every bar with a tick at 1, and a focused bar opens its layer with Enter', async ({ page }) => {
  await openDemo(page);
  await page.getByLabel('log').check();
  for (const chart of ['pcs-chart', 'sigma-chart']) {
    const heights = await page.getByTestId(chart).locator('rect.bar').evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('height'))));
    expect(heights.length).toBeGreaterThan(2);
    for (const h of heights) expect(h).toBeGreaterThan(2);
  }
  await expect(page.getByTestId('sigma-chart').locator('.recharts-yAxis-tick-labels text', { hasText: /^1$/ })).toHaveCount(1);
  const bar = page.getByTestId('pcs-chart').locator(`rect.bar[data-layer="${EDIT.layer}"]`);
  await bar.focus();
  await page.keyboard.press('Enter');
  await expect(tab(page, `Layer ${EDIT.layer}`)).toHaveAttribute('aria-pressed', 'true');
});

test('on a phone (390 px) nothing scrolls sideways and every tab is reachable', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openDemo(page);
  await expect(page.getByTestId('demo-card')).toBeVisible();
  // Once the layout has settled (charts measure their width after the first paint).
  await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  const trace = tab(page, 'Trace');
  const box = (await trace.boundingBox())!;
  expect(box.x + box.width).toBeLessThanOrEqual(390);
  await trace.click();
  await page.getByRole('button', { name: `Trace layer ${EDIT.layer}` }).click();
  await expect(page.getByTestId('relation-chart')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('relation-chart').locator('text', { hasText: /^P\d+$/ })).toHaveCount(8);
  await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
});
