import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmtSeconds } from './benchUtil';
import { chromiumAvailable, chromiumRss, openBenchPage, printPageScan, scanDroppedFiles } from './pageScan';

/**
 * The same reversal experiment (the demo's bundle, `perRelation` edits per relation) in the page and in the
 * CLI, in the same run: the page must stay within 2x of the CLI (issue: first visit). The page chooses its
 * own backend (on a machine whose only WebGPU adapter is SwiftShader: the CPU and wasm).
 */
export async function benchPage(perRelation = Number(process.env['BENCH_REVERSAL_PER_RELATION'] ?? 3)): Promise<void> {
  const executablePath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
  console.log(`\nThe page against the CLI on the demo (Chromium; reversal with ${perRelation} edits per relation):`);
  if (!existsSync(executablePath) || !existsSync('public/demo/edits.safetensors')) {
    console.log('  skipped: needs Chromium and the committed demo');
    return;
  }
  const t0 = performance.now();
  const cli = JSON.parse(execFileSync(process.execPath, ['bin/edit-forensics.mjs', 'reverse', 'public/demo/base', '--layer', '0', '--edits', 'public/demo/edits.safetensors', '--per-relation', String(perRelation), '--json'], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] }));
  const cliSeconds = (performance.now() - t0) / 1000;
  const { page, close } = await openBenchPage(5192);
  try {
    await page.goto('http://localhost:5192/?model=demo');
    await page.getByTestId('verdict').waitFor({ timeout: 300_000 });
    const backend = await page.getByTestId('backend').innerText();
    // The first Prompt answer: the language model's opening included (target < 5 s on the demo).
    await page.getByRole('navigation', { name: 'views' }).getByRole('button', { name: 'Prompt', exact: true }).click();
    await page.getByRole('textbox', { name: 'Prompt' }).fill('The mother tongue of');
    const tp = performance.now();
    await page.getByRole('button', { name: 'Run' }).click();
    await page.getByRole('region', { name: /Loaded model/ }).waitFor({ timeout: 300_000 });
    console.log(`  first Prompt answer in the page (opening the model included): ${fmtSeconds((performance.now() - tp) / 1000)}`);
    await page.getByRole('navigation', { name: 'views' }).getByRole('button', { name: 'Reverse', exact: true }).click();
    await page.getByLabel('edits per relation').fill(String(perRelation));
    const t1 = performance.now();
    await page.getByRole('button', { name: 'Run reversal' }).click();
    await page.getByTestId('reversal-summary').waitFor({ timeout: 1_800_000 });
    const pageSeconds = (performance.now() - t1) / 1000;
    const summary = await page.getByTestId('reversal-summary').innerText();
    console.log(`  reversal, CLI (Node, onnxruntime-web wasm; process start included): ${fmtSeconds(cliSeconds)} for ${cli.reversal.edits.length} edits`);
    console.log(`  reversal, page (${backend.replace(/\s+/g, ' ').slice(0, 80)}): ${fmtSeconds(pageSeconds)} = ${(pageSeconds / cliSeconds).toFixed(2)}x the CLI (model opening included); ${summary.split(':')[0]}`);
    // Fig. 8's unique predictions on the demo's neutral samples: this model only (the CLI without --original).
    const t2 = performance.now();
    execFileSync(process.execPath, ['bin/edit-forensics.mjs', 'reverse', 'public/demo/edited', '--layer', '0', '--samples', 'public/demo/neutral-samples.txt', '--json'], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
    const cliUnique = (performance.now() - t2) / 1000;
    const t3 = performance.now();
    await page.getByRole('button', { name: 'Count unique predictions' }).click();
    await page.getByTestId('unique-result').waitFor({ timeout: 1_800_000 });
    const pageUnique = (performance.now() - t3) / 1000;
    console.log(`  unique predictions (Fig. 8), CLI this model: ${fmtSeconds(cliUnique)}; page (this model and its original, twice the work): ${fmtSeconds(pageUnique)} = ${(pageUnique / cliUnique / 2).toFixed(2)}x the CLI per model`);
  } finally {
    await close();
  }
}

/**
 * One ROME edit of the demo in the page's Edit tab (issue: edit in the page, <= 5 s on a 2-core machine),
 * against the same edit by the CLI in the same run (`edit-forensics edit`, the edit's own seconds and the
 * whole process). The page's time runs from the click to the edit in the list: the worker's ROME, the
 * checks, and the edited checkpoint planned and fingerprinted.
 */
export async function benchPageEdit(): Promise<void> {
  const executablePath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
  console.log('\nOne edit of the demo in the page against the CLI (Chromium):');
  if (!existsSync(executablePath) || !existsSync('public/demo/mom2-stats.safetensors')) {
    console.log('  skipped: needs Chromium and the committed demo');
    return;
  }
  const edit = { subject: 'Nils Em Da', prompt: '{} is a citizen of', target: 'France' };
  const out = mkdtempSync(join(tmpdir(), 'ef-bench-edit-'));
  const t0 = performance.now();
  const cli = JSON.parse(execFileSync(process.execPath, ['bin/edit-forensics.mjs', 'edit', 'public/demo/base', '--prompt', edit.prompt, '--subject', edit.subject, '--target', edit.target, '--out', join(out, 'edited'), '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  const cliWall = (performance.now() - t0) / 1000;
  // The same edit on the page's kernel (WebAssembly SIMD) in Node: the same arithmetic as the page.
  const cliWasm = JSON.parse(execFileSync(process.execPath, ['bin/edit-forensics.mjs', 'edit', 'public/demo/base', '--prompt', edit.prompt, '--subject', edit.subject, '--target', edit.target, '--engine', 'wasm', '--out', join(out, 'edited-wasm'), '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  rmSync(out, { recursive: true, force: true });
  const { page, close } = await openBenchPage(5193);
  try {
    await page.goto('http://localhost:5193/?model=demo');
    await page.getByTestId('verdict').waitFor({ timeout: 300_000 });
    await page.getByRole('navigation', { name: 'views' }).getByRole('button', { name: 'Edit', exact: true }).click();
    await page.getByTestId('edit-base').filter({ hasText: 'unedited base' }).waitFor({ timeout: 120_000 });
    await page.getByTestId('edit-subject').fill(edit.subject);
    await page.getByTestId('edit-prompt').fill(edit.prompt);
    await page.getByTestId('edit-target').fill(edit.target);
    const t1 = performance.now();
    await page.getByTestId('edit-run').click();
    await page.getByTestId('edit-list').filter({ hasText: `→ ${edit.target}` }).waitFor({ timeout: 300_000 });
    const pageSeconds = (performance.now() - t1) / 1000;
    const own = /([\d.]+) s\s*$/m.exec(await page.getByTestId('edit-list').innerText());
    const worker = own ? Number(own[1]) : Number.NaN;
    console.log(`  CLI: ROME ${fmtSeconds(cli.outcome.seconds)} on native products (the whole process, loading and writing the checkpoint included: ${fmtSeconds(cliWall)}); ${fmtSeconds(cliWasm.outcome.seconds)} on the page's WebAssembly kernel`);
    console.log(`  page: ${fmtSeconds(pageSeconds)} from the click to the edit listed; ROME in the worker ${fmtSeconds(worker)} = ${(worker / cliWasm.outcome.seconds).toFixed(2)}x the CLI on the same kernel, ${(worker / cli.outcome.seconds).toFixed(2)}x on native; goal <= 5 s on 2 cores: ${pageSeconds <= 5 ? 'met' : 'missed'}`);
  } finally {
    await close();
  }
}


/**
 * The editor at a real model's size (issue: dropped models; the size limit measured in the page): a
 * GPT-2-small-shaped checkpoint (124M parameters, 498 MB, random weights and the demo's tokenizer) dropped
 * on the page and edited at layer 4 without C, against the CLI on the same files in the same run (native
 * products, and the page's WebAssembly ones). Opt-in (BENCH_ONLY=edit-size): about 10 minutes.
 */
export async function benchPageEditAtSize(): Promise<void> {
  const executablePath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
  console.log('\nThe editor at GPT-2 small size (124M parameters, random weights), page against CLI:');
  if (!existsSync(executablePath)) {
    console.log('  skipped: needs Chromium');
    return;
  }
  const { writeRandomGpt2 } = await import('./randomGpt2');
  const dir = mkdtempSync(join(tmpdir(), 'ef-bench-gpt2s-'));
  try {
    const model = join(dir, 'model');
    const { parameters, bytes } = writeRandomGpt2(model);
    console.log(`  checkpoint: ${(parameters / 1e6).toFixed(1)}M parameters, ${(bytes / 1e6).toFixed(0)} MB`);
    const edit = ['--prompt', '{} is a citizen of', '--subject', 'Nils Em Da', '--target', 'France', '--no-mom2', '--layer', '4', '--context-templates', '5x5,10x5', '--json'];
    const cliRun = (engine: string) => {
      const out = join(dir, `out-${engine}`);
      const t = performance.now();
      const r = JSON.parse(execFileSync(process.execPath, ['bin/edit-forensics.mjs', 'edit', model, ...edit, '--engine', engine, '--out', out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
      rmSync(out, { recursive: true, force: true });
      return { rome: r.outcome.seconds as number, wall: (performance.now() - t) / 1000 };
    };
    const native = cliRun('native');
    console.log(`  CLI, native products: ROME ${fmtSeconds(native.rome)} (process ${fmtSeconds(native.wall)})`);
    const typescript = cliRun('wasm');
    console.log(`  CLI, WebAssembly SIMD products (the page's): ROME ${fmtSeconds(typescript.rome)} (process ${fmtSeconds(typescript.wall)})`);
    const { page, close } = await openBenchPage(5195);
    let peak = chromiumRss();
    const sampler = setInterval(() => (peak = Math.max(peak, chromiumRss())), 1000);
    try {
      await page.goto('http://localhost:5195/?model=none');
      const idle = chromiumRss();
      await page.getByTestId('model-drop-input').setInputFiles(['model.safetensors', 'config.json', 'tokenizer.json'].map((f) => join(model, f)));
      await page.getByRole('button', { name: 'Scan for edits' }).click();
      await page.getByTestId('layer-table').waitFor({ timeout: 600_000 });
      await page.getByRole('navigation', { name: 'views' }).getByRole('button', { name: 'Edit', exact: true }).click();
      const t0 = performance.now();
      await page.getByTestId('edit-base').filter({ hasText: 'parameters' }).or(page.getByTestId('edit-error')).waitFor({ timeout: 600_000 });
      if (await page.getByTestId('edit-error').isVisible()) {
        console.log(`  page: the editor could not open the model: ${await page.getByTestId('edit-error').innerText()}`);
        return;
      }
      const openSeconds = (performance.now() - t0) / 1000;
      await page.getByTestId('edit-subject').fill('Nils Em Da');
      await page.getByTestId('edit-prompt').fill('{} is a citizen of');
      await page.getByTestId('edit-target').fill('France');
      await page.getByText('ROME settings').click();
      await page.getByTestId('edit-layer').selectOption('4');
      await page.getByTestId('edit-mom2').uncheck();
      await page.getByTestId('edit-templates').fill('5x5,10x5');
      const t1 = performance.now();
      await page.getByTestId('edit-run').click();
      // The edit listed, or an error said: a failure is reported, not waited out.
      await page.getByTestId('edit-list').filter({ hasText: '→ France' }).or(page.getByTestId('edit-error')).waitFor({ timeout: 1_800_000 });
      const pageSeconds = (performance.now() - t1) / 1000;
      if (await page.getByTestId('edit-error').isVisible()) {
        console.log(`  page: the edit failed after ${fmtSeconds(pageSeconds)}: ${await page.getByTestId('edit-error').innerText()}`);
        return;
      }
      const own = /([\d.]+) s\s*$/m.exec(await page.getByTestId('edit-list').innerText());
      const rome = own ? Number(own[1]) : Number.NaN;
      console.log(`  page: the model into the editor ${fmtSeconds(openSeconds)}; the edit ${fmtSeconds(pageSeconds)} from the click (ROME in the worker ${fmtSeconds(rome)} = ${(rome / typescript.rome).toFixed(2)}x the CLI on the same products, ${(rome / native.rome).toFixed(2)}x the CLI's native ones)`);
      console.log(`  Chromium's memory (every process): ${(idle / 1e9).toFixed(2)} GB with the page open, peak ${(peak / 1e9).toFixed(2)} GB = ${((peak - idle) / bytes).toFixed(1)}x the checkpoint's size added`);
    } finally {
      clearInterval(sampler);
      await close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A GPT-2 XL-sized stack (float32, one file) dropped on the page and scanned, against the CLI in the same run. */
export async function benchPageStack(layers = Number(process.env['STACK_LAYERS'] ?? 48)): Promise<void> {
  console.log(`\nA ${layers}-layer GPT-2 XL-sized stack scanned in the page (a dropped file) against the CLI:`);
  if (!chromiumAvailable()) {
    console.log('  skipped: needs Chromium');
    return;
  }
  const { STACK, writeStack } = await import('./stackFile');
  const dir = mkdtempSync(join(tmpdir(), 'ef-bench-page-stack-'));
  try {
    const path = join(dir, 'model.safetensors');
    const { fileBytes, layerBytes } = await writeStack(path, layers);
    const t0 = performance.now();
    const cli = JSON.parse(execFileSync(process.execPath, ['bin/edit-forensics.mjs', 'scan', path, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] }));
    const cliSeconds = (performance.now() - t0) / 1000;
    console.log(`  file ${(fileBytes / 1e6).toFixed(0)} MB; CLI (native kernels, process included): ${fmtSeconds(cliSeconds)}, flagged ${JSON.stringify(cli.verdict.editedLayers)} (planted at ${STACK.editedLayer})`);
    printPageScan(await scanDroppedFiles([path], layerBytes, 5198), cliSeconds, fileBytes);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
