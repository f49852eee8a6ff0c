import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendForNode } from '../src/cli/backendForNode';
import { fmtSeconds } from './benchUtil';
import { benchEngine } from './engine.bench';
import { benchKernels } from './kernels.bench';
import { benchKeyWhitening } from './keyWhitening.bench';
import { benchLanguageModels } from './lm.bench';
import { benchPage, benchPageEdit, benchPageEditAtSize, benchPageStack } from './page.bench';
import { STACK, writeStack } from './stackFile';
import { benchRealSize } from './realSize/realSize.bench';

/** `npm run bench`: every figure is a ratio against a baseline measured in the same run (never timed tests). */
// `npm run bench -- --real-size`: only the real-size section (synthetic GPT-2 XL- and Llama-3-8B-shaped checkpoints).
if (process.argv.includes('--real-size')) {
  await benchRealSize();
  process.exit(0);
}
const gpu = await backendForNode('auto');
console.log(`WebGPU backend: ${gpu.kind === 'webgpu' ? gpu.description : 'none (CPU only)'}`);
if (gpu.description.includes('swiftshader')) console.log('  (SwiftShader emulates a GPU on the CPU: its times say nothing about a real GPU)');
// BENCH_ONLY=kernels,keys,engine,lm,reversal,edit,stack (any subset) runs only those sections; edit-size and page-stack are opt-in.
const only = new Set((process.env['BENCH_ONLY'] ?? 'kernels,keys,engine,lm,reversal,edit,stack').split(','));
if (only.has('kernels')) await benchKernels(gpu.kind === 'webgpu' ? gpu : null);
if (only.has('keys')) await benchKeyWhitening(await backendForNode('cpu'));
if (only.has('engine')) await benchEngine();
if (only.has('lm')) await benchLanguageModels();
if (only.has('reversal')) await benchPage();
if (only.has('edit')) await benchPageEdit();
// Opt-in (about 10 minutes): the editor at GPT-2 small size.
if (only.has('edit-size')) await benchPageEditAtSize();
// Opt-in (a few minutes, a 2 GB temporary file): a GPT-2 XL-sized scan in the page.
if (only.has('page-stack')) await benchPageStack();
if (!only.has('stack')) process.exit(0);

const layers = Number(process.env['STACK_LAYERS'] ?? 48);
console.log(`\nScanning a ${layers}-layer stack of ${STACK.rows} x ${STACK.cols} float32 (GPT-2 XL sized) on the CPU, in a fresh process:`);
const dir = mkdtempSync(join(tmpdir(), 'ef-stack-'));
try {
  const path = join(dir, 'model.safetensors');
  const t0 = performance.now();
  const { fileBytes, layerBytes } = await writeStack(path, layers);
  const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
  console.log(`  file ${mb(fileBytes)} (${layers} layers of ${mb(layerBytes)}), written in ${fmtSeconds((performance.now() - t0) / 1000)}`);
  const raw = execFileSync(process.execPath, ['--import', './scripts/node-register.mjs', 'bench/stackScan.bench.ts', path], { encoding: 'utf8' });
  const r = JSON.parse(raw.trim().split('\n').pop() as string);
  console.log(`  scan ${fmtSeconds(r.scanSeconds)} (${fmtSeconds(r.scanSeconds / layers)} per layer); flagged: ${JSON.stringify(r.flagged)} (edit planted at ${STACK.editedLayer})`);
  console.log(`  RSS at start ${mb(r.rssBefore)}, peak ${mb(r.maxRss)}: the scan added ${mb(r.maxRss - r.rssBefore)}`);
  console.log(`  added memory = ${((r.maxRss - r.rssBefore) / layerBytes).toFixed(1)} layers' worth = ${((100 * (r.maxRss - r.rssBefore)) / fileBytes).toFixed(1)}% of the file`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
