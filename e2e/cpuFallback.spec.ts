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
  // Cross-origin isolated (the server's COOP/COEP): one kernel worker per core, up to 4, on a shared memory.
  const { isolated, cores } = await page.evaluate(() => ({ isolated: self.crossOriginIsolated, cores: navigator.hardwareConcurrency }));
  const threads = isolated && cores > 1 ? Math.min(4, cores) : 1;
  await expect(page.getByText(`computed on CPU (WebAssembly SIMD kernels, ${threads} thread${threads > 1 ? 's' : ''})`)).toBeVisible();
  expect(isolated).toBe(true);
});
