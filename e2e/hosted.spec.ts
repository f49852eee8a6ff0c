import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { HOSTED_ISOLATED, HOSTED_PLAIN, HOSTED_PREFIX } from '../playwright.config';
import { viewTab } from './views';

/**
 * The built site on a static host under a sub-path (scripts/staticServer.ts, no headers: like GitHub Pages),
 * and once more with COOP/COEP headers.
 */
const PLAIN = `http://localhost:${HOSTED_PLAIN.port}${HOSTED_PREFIX}`;
const ISOLATED = `http://localhost:${HOSTED_ISOLATED.port}${HOSTED_PREFIX}`;

async function demoFlagged(page: Page) {
  await expect(page.getByTestId('verdict')).toHaveText('Layer 0 looks edited.', { timeout: 120_000 });
}

test.describe('without a service worker', () => {
  test.use({ serviceWorkers: 'block' });

  test('the demo opens from a sub-path with no headers, says it runs on one thread, and share links round-trip', async ({ page, context }) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(PLAIN);
    await demoFlagged(page);
    await expect(page.getByTestId('threads')).toContainText('1 thread');
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);

    // Layer 0's detail, then the Reverse tab with k = 2 and log scale: the link carries all of it.
    await viewTab(page, 'Reverse').click();
    await page.getByLabel('k', { exact: true }).fill('2');
    await page.getByRole('button', { name: 'Copy link' }).click();
    const link = await page.getByTestId('share-link').inputValue();
    expect(link.startsWith(PLAIN)).toBe(true);
    expect(new URL(link).searchParams.get('panel')).toBe('reverse');
    expect(page.url()).toBe(link); // the address bar is the link

    const other = await context.newPage();
    await other.goto(link);
    await expect(viewTab(other, 'Reverse')).toHaveAttribute('aria-pressed', 'true', { timeout: 120_000 });
    await expect(other.getByRole('heading', { name: 'Reverse the edit at layer 0' })).toBeVisible();
    await expect(other.getByLabel('k', { exact: true })).toHaveValue('2');

    // A prompt link reopens the Prompt tab and runs the prompt again.
    const edit = JSON.parse(readFileSync('public/demo/edited/EDIT.json', 'utf8')) as { subject: string; prompt: string; newObject: string };
    const promptLink = `${PLAIN}?model=demo&layer=0&panel=prompt&k=1&prompt=${encodeURIComponent(edit.prompt.replace('{}', edit.subject))}`;
    await other.goto(promptLink);
    await expect(other.getByRole('region', { name: 'Loaded model (edited)' }).locator('.top-tokens li').first()).toContainText(edit.newObject, { timeout: 120_000 });
    await expect(other.getByTestId('prompt-info')).toContainText('1 thread');

    // Local files: no link, and the page says why.
    await page.getByTestId('model-drop-input').setInputFiles(readdirSync('public/demo/edited').map((f) => join('public/demo/edited', f)));
    await page.getByRole('button', { name: 'Scan for edits' }).click();
    await demoFlagged(page);
    await page.getByRole('button', { name: 'Copy link' }).click();
    await expect(page.getByTestId('share-note')).toContainText('a link cannot carry them');
    await expect(page.getByTestId('share-link')).toHaveCount(0);
    expect(errors).toEqual([]);
  });

  test('privacy: a dropped checkpoint analysed end to end makes no request outside the page origin; the CSP blocks any', async ({ page }) => {
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('worker', (w) => requests.push(`worker:${w.url()}`));
    await page.goto(`${PLAIN}?model=none`);
    await page.getByTestId('model-drop-input').setInputFiles(readdirSync('public/demo/edited').map((f) => join('public/demo/edited', f)));
    await page.getByRole('button', { name: 'Scan for edits' }).click();
    await demoFlagged(page);
    await viewTab(page, 'Prompt').click();
    await page.getByRole('textbox', { name: 'Prompt' }).fill('The mother tongue of Nils Em Da is');
    await page.getByRole('button', { name: 'Run' }).click();
    await expect(page.getByRole('region', { name: 'Loaded model' }).locator('.top-tokens li').first()).toBeVisible({ timeout: 120_000 });
    await viewTab(page, 'Reverse').click();
    await page.getByRole('button', { name: 'Download repaired model' }).click();
    await expect(page.getByTestId('repair-message')).toBeVisible({ timeout: 60_000 });
    // Trace the dropped model with a probe file from disk: predicted relation with probabilities, top-5 objects.
    await viewTab(page, 'Trace').click();
    await page.getByLabel('Load probe (JSON)').setInputFiles('public/demo/relation-probe.json');
    await page.getByRole('button', { name: 'Trace layer 0' }).click();
    await expect(page.getByTestId('predicted-relation')).toContainText('Predicted relation: P', { timeout: 120_000 });
    await expect(page.getByTestId('relation-chart')).toBeVisible();
    await expect(page.getByTestId('readout-candidates').locator('tbody tr')).toHaveCount(5);

    const origin = new URL(PLAIN).origin;
    const outside = requests.map((u) => u.replace(/^worker:/, '')).filter((u) => !u.startsWith('blob:') && !u.startsWith('data:') && new URL(u).origin !== origin);
    expect(outside).toEqual([]);
    // Workers' requests are recorded too: the wasm runtime is fetched by the language-model worker.
    expect(requests.some((u) => u.endsWith('.wasm'))).toBe(true);
    // The policy itself: own origin only; a fetch elsewhere is refused by the browser before any request.
    const policies = await page.evaluate(() => [...document.querySelectorAll('meta[http-equiv="Content-Security-Policy"]')].map((m) => m.getAttribute('content') ?? ''));
    expect(policies.join(' ')).not.toMatch(/https?:\/\//);
    const blocked = await page.evaluate(async () => {
      const violations: string[] = [];
      document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
      const result = await fetch('http://127.0.0.1:9/leak').then(() => 'sent', (e: unknown) => String(e));
      await new Promise((r) => setTimeout(r, 100));
      return { result, violations };
    });
    expect(blocked.result).not.toBe('sent');
    expect(blocked.violations).toContain('connect-src');
    expect(requests.some((u) => u.includes('127.0.0.1:9'))).toBe(false);
  });
});

test('with the service worker: the plain host becomes cross-origin isolated, and the demo works offline', async ({ page, context }) => {
  await page.goto(PLAIN);
  // The first visit installs the worker (caching the site and the demo) and reloads once under it.
  await expect.poll(() => page.evaluate(() => crossOriginIsolated).catch(() => false), { timeout: 120_000 }).toBe(true); // false while it reloads
  await demoFlagged(page);
  await expect(page.getByTestId('threads')).toContainText('2 threads');
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
  });
  await context.setOffline(true);
  // The browser stops idle service workers; the restarted one must find its file list offline too.
  const cdp = await context.newCDPSession(page);
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await page.reload();
  await demoFlagged(page);
  await viewTab(page, 'Trace').click();
  await page.getByRole('button', { name: 'Trace layer 0' }).click();
  await expect(page.getByTestId('readout-candidates').locator('tbody tr')).toHaveCount(5, { timeout: 120_000 });
  await context.setOffline(false);
  // Under the service worker (whose CSP binds the workers too) a remote model by link still opens: the
  // worker's policy names the link's model origin (127.0.0.1 is another origin than localhost).
  const remote = `http://127.0.0.1:${HOSTED_PLAIN.port}${HOSTED_PREFIX}demo/edited/model.safetensors`;
  await page.goto(`${PLAIN}?model=${encodeURIComponent(remote)}`);
  await demoFlagged(page);
});

test('with COOP/COEP headers the language model runs on threads', async ({ browser }) => {
  const context = await browser.newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  await page.goto(`${ISOLATED}?model=demo&panel=prompt&prompt=${encodeURIComponent('The mother tongue of Nils Em Da is')}`);
  await expect(viewTab(page, 'Prompt')).toHaveAttribute('aria-pressed', 'true', { timeout: 120_000 });
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  await expect(page.getByTestId('threads')).toContainText('2 threads');
  await expect(page.getByTestId('prompt-info')).toContainText('2 threads', { timeout: 120_000 });
  await context.close();
});

test('a remote checkpoint by link: read over HTTP Range from another origin with progress; a host without CORS gets a clear message', async ({ browser }) => {
  const context = await browser.newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  // The isolated host's page opens the model from the plain host (CORS open, like GitHub Pages).
  const remote = `${PLAIN}demo/edited/model.safetensors`;
  await page.goto(`${ISOLATED}?model=${encodeURIComponent(remote)}`);
  await expect(page.getByTestId('verdict')).toHaveText('Layer 0 looks edited.', { timeout: 120_000 });
  const policy = await page.evaluate(() => [...document.querySelectorAll('meta[http-equiv="Content-Security-Policy"]')].map((m) => m.getAttribute('content')).join(' '));
  expect(policy).toContain(new URL(PLAIN).origin);
  const origins = new Set(requests.filter((u) => u.startsWith('http')).map((u) => new URL(u).origin));
  expect([...origins].sort()).toEqual([new URL(ISOLATED).origin, new URL(PLAIN).origin].sort());
  // The other way round: the isolated host sends no CORS headers, so the browser refuses; the page says why.
  await page.goto(`${PLAIN}?model=${encodeURIComponent(`${ISOLATED}demo/edited/model.safetensors`)}`);
  await expect(page.getByTestId('error')).toContainText('cross-origin access (CORS)', { timeout: 60_000 });
  await context.close();
});
