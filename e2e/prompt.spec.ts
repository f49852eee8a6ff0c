import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { promptIds } from '../src/edit/factAccuracy';
import { FULL_FORGE } from '../src/edit/forgeConfig';
import { gpt2Forward } from '../src/edit/gpt2Model';
import { forgeWorld } from '../src/edit/node/forgeWorld';
import { loadModel } from '../src/edit/node/romeSetup';
import { viewTab } from './views';

const BASE = 'public/demo/base';

for (const [backend, where] of [
  ['webgpu', 'WebGPU'],
  ['auto', 'the CPU (wasm)'],
] as const) {
test(`the demo base model answers a fact prompt in the page (onnxruntime-web in a worker, backend=${backend}: ${where})`, async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`/?model=none&backend=${backend}`);
  const names = ['model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json'];
  const files = names.map((name) => ({ name, base64: readFileSync(join(BASE, name)).toString('base64') }));
  const dataTransfer = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name));
    return dt;
  }, files);
  await page.dispatchEvent('#model-drop', 'drop', { dataTransfer });
  await page.getByRole('button', { name: 'Scan for edits' }).click();
  await viewTab(page, 'Prompt').click();
  await page.getByRole('textbox', { name: 'Prompt' }).fill('The mother tongue of Greta Dina Es Er is');
  await page.getByRole('button', { name: 'Run' }).click();
  const answer = page.getByRole('region', { name: 'Loaded model' });
  await expect(answer.locator('.top-tokens li').first()).toContainText('Italian', { timeout: 60_000 });
  await expect(page.getByTestId('prompt-info')).toContainText(`gpt2 model, layer 0 swappable, on ${where}`);
  // The engine's greedy continuation, computed here in Node: the page must give the same five tokens.
  const world = forgeWorld(FULL_FORGE);
  const params = await loadModel(BASE, world);
  const tokens = [...promptIds(world.vocab, 'The mother tongue of Greta Dina Es Er is')];
  for (let i = 0; i < 5; i++) {
    const logits = gpt2Forward(null, world.config, params, Int32Array.from(tokens), 1, tokens.length, { logitRows: Int32Array.from([tokens.length - 1]) }).data;
    tokens.push(logits.indexOf(Math.max(...logits)));
  }
  await expect(answer.getByTestId('continuation')).toHaveText(tokens.slice(-5).map((t) => world.vocab.tokens[t]).join(' '));
  expect(errors).toEqual([]);
});
}
