import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { strFromU8, unzipSync } from 'fflate';
import { viewTab } from './views';

test('the demo: Trace names the edited relation and new object like the CLI; probes train, save and load; Tab. 1 runs', async ({ page }) => {
  test.setTimeout(480_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await expect(page.getByTestId('verdict')).toHaveText('Layer 0 looks edited.', { timeout: 120_000 });
  await viewTab(page, 'Trace').click();
  await page.getByRole('button', { name: 'Trace layer 0' }).click();
  const edit = JSON.parse(readFileSync('public/demo/edited/EDIT.json', 'utf8')) as { newObject: string };
  // The demo's probe never saw this edit (held out), so its relation guess is a real prediction.
  await expect(page.getByTestId('predicted-relation')).toContainText('Predicted relation: P', { timeout: 240_000 });
  await expect(page.getByTestId('relation-chart')).toBeVisible();
  await expect(page.getByTestId('readout-candidates').locator('tbody tr')).toHaveCount(5);
  await expect(page.getByTestId('decoder-candidates').locator('tbody tr')).toHaveCount(5);
  await expect(page.getByTestId('readout-candidates')).toContainText(edit.newObject);

  // The same trace from the command line: same relation probabilities and the same candidates.
  const cli = JSON.parse(execFileSync('node', ['bin/edit-forensics.mjs', 'trace', 'public/demo/edited', '--original', 'public/demo/base', '--probe', 'public/demo/relation-probe.json', '--decoder', 'public/demo/object-decoder.safetensors', '--backend', 'cpu', '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 }));
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export JSON' }).click();
  const ui = JSON.parse(readFileSync(await (await download).path(), 'utf8'));
  expect(ui.relation.map((r: { relation: string }) => r.relation)).toEqual(cli.relation.map((r: { relation: string }) => r.relation));
  ui.relation.forEach((r: { probability: number }, i: number) => expect(r.probability).toBeCloseTo(cli.relation[i].probability, 4));
  expect(ui.trainingFree.candidates.map((c: { text: string }) => c.text)).toEqual(cli.trainingFree.candidates.map((c: { text: string }) => c.text));
  expect(ui.decoder.candidates.map((c: { text: string }) => c.text)).toEqual(cli.decoder.candidates.map((c: { text: string }) => c.text));

  // Train a probe on the demo bundle, save it, load it back.
  await page.getByRole('button', { name: 'Train probe' }).click();
  await expect(page.getByTestId('probe-status')).toContainText('31 relations', { timeout: 120_000 });
  const saved = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Save probe' }).click();
  const probePath = await (await saved).path();
  expect(JSON.parse(readFileSync(probePath, 'utf8')).format).toBe('edit-forensics-relation-probe');
  await page.getByLabel('Load probe (JSON)').setInputFiles({ name: 'mine.json', mimeType: 'application/json', buffer: readFileSync(probePath) });
  await expect(page.getByTestId('probe-status')).toContainText('Loaded: mine.json, 31 relations');
  // A hostile probe file: a clear error naming it, the page stays usable.
  await page.getByLabel('Load probe (JSON)').setInputFiles({ name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('{"format":"edit-forensics-relation-probe","version":1,"layer":-3}') });
  await expect(page.getByTestId('trace-error')).toContainText('bad.json');

  // Tab. 1 with one repeat: a row per class count up to 30, and its chart.
  await page.getByLabel('repeats').fill('1');
  await page.getByRole('button', { name: 'Run Tab. 1' }).click();
  await expect(page.getByTestId('probe-table').locator('tbody tr')).toHaveCount(8, { timeout: 180_000 });
  await expect(page.getByTestId('probe-chart')).toBeVisible();

  // One click: the view's charts (SVG and PNG), tables (CSV) and results (JSON) in one zip.
  const zipped = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export report (zip)' }).click();
  const files = unzipSync(readFileSync(await (await zipped).path()));
  const names = Object.keys(files);
  for (const chart of ['predicted-relation', 'relation-probe-accuracy']) {
    const svg = names.find((n) => n.startsWith('charts/') && n.includes(chart) && n.endsWith('.svg'));
    expect(svg, `${chart} chart in ${names.join(', ')}`).toBeTruthy();
    expect(strFromU8(files[svg!]!)).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const png = files[svg!.replace(/\.svg$/, '.png')]!;
    expect(Array.from(png.subarray(0, 4))).toEqual([0x89, 0x50, 0x4e, 0x47]);
  }
  const table = names.find((n) => n.startsWith('tables/') && n.includes('paper-tab-1'))!;
  expect(strFromU8(files[table]!).trim().split('\n')).toHaveLength(9);
  const report = JSON.parse(strFromU8(files['report.json']!));
  expect(report.scan.verdict.editedLayers).toEqual([0]);
  expect(report.relationProbeTable).toHaveLength(8);
  expect(report.trace.layer).toBe(0);
  expect(errors).toEqual([]);
});
