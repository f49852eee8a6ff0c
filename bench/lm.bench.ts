import { existsSync } from 'node:fs';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { CHROMIUM_ARGS } from '../playwright.config';
import { fmtSeconds } from './benchUtil';
import type { LmTimings } from './lmMeasure';

interface PageResult extends LmTimings {
  model: string;
  ep: string;
  threads: number;
  isolated: boolean;
  seq: number;
  sessionSeconds: number;
  error?: string;
}

/**
 * onnxruntime-web in Chromium (the app's runtime, served with COOP/COEP so threads work): forward passes
 * per second for the demo model and a 4-layer d768 model with GPT-2's vocabulary, wasm on one and two
 * threads and WebGPU, and the cost of one swap of the MLP matrix. One fresh page per configuration.
 */
export async function benchLanguageModels(): Promise<void> {
  const executablePath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
  console.log('\nLanguage models in onnxruntime-web (Chromium; one prompt per forward pass):');
  if (!existsSync(executablePath)) {
    console.log(`  skipped: no Chromium at ${executablePath} (npm test installs it)`);
    return;
  }
  const server = await createServer({ configFile: 'vite.config.ts', logLevel: 'error', server: { port: 5191, strictPort: true, host: 'localhost' } });
  await server.listen();
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  const models = (process.env['BENCH_LM_MODELS'] ?? 'demo,d768').split(',');
  try {
    for (const model of models) {
      let base: PageResult | undefined;
      for (const [ep, threads] of [['wasm', 1], ['wasm', 2], ['webgpu', 1]] as const) {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(`http://localhost:5191/bench/lm/index.html?model=${model}&ep=${ep}&threads=${threads}`);
        const result = await page
          .waitForFunction(() => (window as unknown as { benchResult?: unknown }).benchResult, undefined, { timeout: 600_000, polling: 500 })
          .then(async (h) => (await h.jsonValue()) as PageResult)
          .catch((e: unknown) => ({ error: `no result in 10 minutes (${errors.join('; ') || (e instanceof Error ? e.message : String(e))})` }) as PageResult);
        await page.close();
        const where = ep === 'webgpu' ? 'WebGPU' : `wasm ${threads} thread${threads > 1 ? 's' : ''}`;
        const label = `${model === 'demo' ? 'demo (d96, 4 layers, vocab 538)' : 'random d768, 4 layers, vocab 50257'}, ${where}`;
        if (result.error) {
          console.log(`  ${label}: failed: ${result.error}`);
          continue;
        }
        if (ep === 'wasm' && threads === 1) base = result;
        const notIsolated = threads > 1 && !result.isolated ? ' (page not cross-origin isolated: one thread!)' : '';
        const ratio = base ? ` = ${(base.forward / result.forward).toFixed(2)}x wasm x1` : '';
        console.log(
          `  ${label}${notIsolated}, ${result.seq} tokens: ${(1 / result.forward).toFixed(1)} forward/s${ratio}; 16 prompts in one call ${result.batched16 === null ? 'skipped (over budget)' : fmtSeconds(result.batched16)}; ` +
            `swap + forward ${fmtSeconds(result.swapThenForward)} (swap ~${fmtSeconds(Math.max(0, result.swapThenForward - result.forward))}); session created in ${fmtSeconds(result.sessionSeconds)}`,
        );
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
}
