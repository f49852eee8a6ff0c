import { expect, test } from '@playwright/test';
import { CHROMIUM_ARGS } from '../playwright.config';
import { fixturePaths } from './fixtureFiles';

// A browser without WebGPU: the same analysis runs on the CPU path, and the page says so.
test.use({
  launchOptions: {
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS.filter((a) => !a.includes('webgpu')), '--disable-features=WebGPU,Vulkan', '--disable-gpu'],
  },
});

test('without WebGPU the page says it computes on the CPU, and still flags the edited layer', async ({ page }) => {
  await page.goto('/?model=none');
  await expect(page.getByTestId('backend')).toContainText('Computing on the CPU');
  await page.getByTestId('model-drop-input').setInputFiles(fixturePaths('gpt2'));
  await page.getByRole('button', { name: 'Scan for edits' }).click();
  await expect(page.getByTestId('verdict')).toHaveText('Layer 3 looks edited.');
  await expect(page.getByText(/computed on CPU \(wasm kernels, onnxruntime-web, [12] threads?\)/)).toBeVisible();
});
