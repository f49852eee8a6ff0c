import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { expect, test } from '@playwright/test';
import { FIXTURE_DIR } from './fixtureFiles';

/**
 * A checkpoint behind a URL, served with HTTP Range (or without, under /norange/) by routes that stand in
 * for a remote host. Counts the bytes sent, to show that only the needed tensors are read.
 */
test('a model URL is read with HTTP Range, only the tensors it needs; a host without Range gets a clear message', async ({ page }) => {
  const dir = join(FIXTURE_DIR, 'gpt2', 'edited');
  let bytesServed = 0;
  await page.context().route(/\/remote\//, async (route) => {
    const url = new URL(route.request().url());
    const name = basename(url.pathname);
    let body: Buffer;
    try {
      body = readFileSync(join(dir, name));
    } catch {
      await route.fulfill({ status: 404, body: 'not found' });
      return;
    }
    const range = /^bytes=(\d+)-(\d+)$/.exec((await route.request().headerValue('range')) ?? '');
    if (url.pathname.includes('/norange/') || !range) {
      await route.fulfill({ status: 200, body });
      return;
    }
    const first = Number(range[1]);
    const last = Math.min(Number(range[2]), body.length - 1);
    bytesServed += last - first + 1;
    await route.fulfill({ status: 206, headers: { 'Content-Range': `bytes ${first}-${last}/${body.length}`, 'Content-Type': 'application/octet-stream' }, body: body.subarray(first, last + 1) });
  });
  await page.goto('/?model=none');
  await page.getByTestId('model-url').fill('/remote/model.safetensors');
  await page.getByRole('button', { name: 'Scan for edits' }).click();
  await expect(page.getByTestId('verdict')).toHaveText('Layer 3 looks edited.');
  await expect(page.getByText('detected by config')).toBeVisible(); // config.json found next to the URL
  const fileSize = readFileSync(join(dir, 'model.safetensors')).length;
  expect(bytesServed).toBeLessThan(fileSize * 0.75); // attention and MLP-input tensors are never read

  await page.getByTestId('model-url').fill('/remote/norange/model.safetensors');
  await page.getByRole('button', { name: 'Scan for edits' }).click();
  await expect(page.getByTestId('error')).toContainText('does not support HTTP Range requests');
});
