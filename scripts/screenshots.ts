// `node --import ./scripts/node-register.mjs scripts/screenshots.ts`: the main views of the demo at 1440 and
// 390 px wide, as a newcomer sees them, into docs/screenshots/ (README shows them).
import { mkdirSync } from 'node:fs';
import { chromium, type Page } from '@playwright/test';
import { createServer } from 'vite';
import { CHROMIUM_ARGS } from '../playwright.config';

const OUT = 'docs/screenshots';
mkdirSync(OUT, { recursive: true });
const server = await createServer({ configFile: 'vite.config.ts', logLevel: 'error', server: { port: 5193, strictPort: true, host: 'localhost' } });
await server.listen();
const browser = await chromium.launch({ executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
const tab = (page: Page, name: string) => page.getByRole('navigation', { name: 'views' }).getByRole('button', { name, exact: true });

for (const [width, height, suffix] of [
  [1440, 900, ''],
  [390, 844, '-390'],
] as const) {
  // The Edit tab after one edit made in the page (the strength slider, checks and loss chart on screen).
  const editing = await browser.newPage({ viewport: { width, height } });
  await editing.goto('http://localhost:5193/?panel=edit');
  await editing.getByTestId('edit-base').filter({ hasText: 'unedited base' }).waitFor({ timeout: 300_000 });
  await editing.getByTestId('edit-subject').fill('Nils Em Da');
  await editing.getByTestId('edit-prompt').fill('{} is a citizen of');
  await editing.getByTestId('edit-target').fill('France');
  await editing.getByTestId('edit-run').click();
  await editing.getByTestId('edit-list').filter({ hasText: '→ France' }).waitFor({ timeout: 300_000 });
  await editing.getByTestId('strength-stats').filter({ hasNotText: 'scanning…' }).waitFor({ timeout: 120_000 });
  await editing.waitForTimeout(500);
  await editing.screenshot({ path: `${OUT}/edit${suffix}.png`, fullPage: true });
  await editing.close();
  if (process.env['ONLY'] === 'edit') continue;

  const page = await browser.newPage({ viewport: { width, height } });
  await page.goto('http://localhost:5193/');
  await page.getByTestId('verdict').waitFor({ timeout: 300_000 });
  await page.getByTestId('demo-card').waitFor();
  await page.waitForTimeout(500);
  await page.screenshot({ path: `${OUT}/overview${suffix}.png`, fullPage: true });
  await page.getByTestId('demo-card').getByRole('button', { name: 'Got it' }).click();
  await tab(page, 'Layer 0').click();
  await page.getByTestId('layer-detail').waitFor();
  await page.screenshot({ path: `${OUT}/layer${suffix}.png`, fullPage: true });
  await tab(page, 'Prompt').click();
  await page.getByTestId('demo-prompts').selectOption({ index: 1 });
  await page.getByRole('region', { name: /Approximated/ }).waitFor({ timeout: 120_000 });
  await page.screenshot({ path: `${OUT}/prompt${suffix}.png`, fullPage: true });
  await tab(page, 'Trace').click();
  await page.getByRole('button', { name: /^Trace layer/ }).click();
  await page.getByTestId('trace-result').waitFor({ timeout: 300_000 });
  await page.screenshot({ path: `${OUT}/trace${suffix}.png`, fullPage: true });
  if (width > 400) {
    await tab(page, 'Reverse').click();
    await page.getByLabel('edits per relation').fill('2');
    await page.getByRole('button', { name: 'Run reversal' }).click();
    await page.getByTestId('reversal-summary').waitFor({ timeout: 600_000 });
    await page.screenshot({ path: `${OUT}/reverse${suffix}.png`, fullPage: true });
  }
  await page.close();
}
await browser.close();
await server.close();
console.log(`screenshots in ${OUT}`);
process.exit(0);
