import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { FIXTURE_DIR, fixturePaths } from './fixtureFiles';
import { viewTab } from './views';

async function open(page: Page) {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // The WebGPU kernels on SwiftShader: the page passes a software adapter over unless the link asks for it.
  await page.goto('/?model=none&backend=webgpu');
  await expect(page.getByTestId('backend')).toContainText('WebGPU');
  return errors;
}

/** Simulates dropping files on a drop zone, as a user dragging them from the file manager. */
async function dropFiles(page: Page, selector: string, paths: string[]) {
  const files = paths.map((p) => ({ name: basename(p), base64: readFileSync(p).toString('base64') }));
  const dataTransfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], f.name));
    }
    return dt;
  }, files);
  await page.dispatchEvent(selector, 'drop', { dataTransfer });
}

function flaggedLayers(page: Page) {
  return page.locator('[data-testid=layer-table] tr.flagged').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-layer'))));
}

test('dropped GPT-2 files: the edited layer is flagged on WebGPU, and the exported JSON equals the CLI report', async ({ page }) => {
  const errors = await open(page);
  const files = fixturePaths('gpt2');
  await dropFiles(page, '#model-drop', files);
  await page.getByRole('button', { name: 'Scan for edits' }).click();
  await expect(page.getByTestId('verdict')).toHaveText('Layer 3 looks edited.');
  expect(await flaggedLayers(page)).toEqual([3]);
  await expect(page.getByText('computed on WebGPU')).toBeVisible();

  const download = page.waitForEvent('download');
  await page.getByTestId('export-report').click();
  const exported = JSON.parse(readFileSync(await (await download).path(), 'utf8'));

  // The CLI on the same files, on WebGPU through Dawn on the same SwiftShader driver.
  const cli = execFileSync('node', ['bin/edit-forensics.mjs', 'scan', ...files, '--json', '--backend', 'webgpu'], { encoding: 'utf8' });
  expect(exported).toEqual(JSON.parse(cli));
  expect(exported.backend).toBe('webgpu');
  expect(exported.verdict.editedLayers).toEqual([3]);

  // Layer detail: direction histogram, spectrum, and a cosine heatmap computed on request.
  await page.getByRole('button', { name: 'details of layer 3' }).click();
  await expect(page.getByTestId('direction-histogram')).toBeVisible();
  await expect(page.getByTestId('singular-values')).toBeVisible();
  await page.getByRole('button', { name: 'Cosine heatmap' }).click();
  await expect(page.getByTestId('cosine-heatmap')).toContainText('rows 0–255');
  expect(errors).toEqual([]);
});

test('with the original dropped too: the diff view shows exactly the edited layer', async ({ page }) => {
  await open(page);
  await page.getByTestId('model-drop-input').setInputFiles(fixturePaths('llamaSharded'));
  await dropFiles(page, '#original-drop', fixturePaths('llamaSharded', 'original'));
  await page.getByRole('button', { name: 'Scan for edits' }).click();
  await expect(page.getByTestId('verdict')).toHaveText('Layer 1 differs from the original.');
  expect(await flaggedLayers(page)).toEqual([1]);
  await viewTab(page, 'Diff').click();
  const rows = page.locator('[data-testid=diff-view] tbody tr');
  await expect(rows).toHaveCount(5);
  // BF16 storage rounds W and W' separately, so dW is rank one up to rounding noise; u is balanced (50%).
  await expect(rows.nth(1)).toContainText(/0\.9999\d+50\.0%/);
  await expect(rows.nth(0)).toContainText('0 (identical)');
});

test('a malformed file gives a clear error naming it, and the app stays usable', async ({ page }) => {
  await open(page);
  await page.getByTestId('model-drop-input').setInputFiles(join(FIXTURE_DIR, 'bad', 'broken.safetensors'));
  await page.getByRole('button', { name: 'Scan for edits' }).click();
  await expect(page.getByTestId('error')).toContainText('broken.safetensors: is not a safetensors file: byte 8 should open the JSON header with "{" but is 0x00');
  await page.getByRole('button', { name: 'dismiss error' }).click();
  await page.getByTestId('model-drop-input').setInputFiles(fixturePaths('gpt2'));
  await page.getByRole('button', { name: 'Scan for edits' }).click();
  await expect(page.getByTestId('verdict')).toHaveText('Layer 3 looks edited.');
});

test('a long scan shows progress and can be cancelled', async ({ page }) => {
  await open(page);
  await page.getByTestId('model-drop-input').setInputFiles(fixturePaths('large'));
  await page.getByRole('button', { name: 'Scan for edits' }).click();
  await expect(page.getByTestId('progress-message')).toContainText('layer');
  await expect(page.getByTestId('progress-time')).toContainText('elapsed');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByTestId('error')).toHaveText(/Scan cancelled\./);
  await expect(page.getByRole('button', { name: 'Scan for edits' })).toBeEnabled();
});

test('opening the app loads the committed demo (the forge\'s edited model) and flags its edited layer', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  // The only adapter here is SwiftShader: by default the page computes on the CPU, and says why.
  await expect(page.getByTestId('backend')).toContainText(/Computing on the CPU: the only WebGPU adapter \(.*\) is a software renderer, slower than the CPU here/);
  const edit = JSON.parse(readFileSync('public/demo/edited/EDIT.json', 'utf8')) as { layer: number };
  await expect(page.getByTestId('verdict')).toHaveText(`Layer ${edit.layer} looks edited.`, { timeout: 120_000 });
  expect(await flaggedLayers(page)).toEqual([edit.layer]);
  await expect(page.getByTestId('error')).toHaveCount(0);
  expect(errors).toEqual([]);
});
