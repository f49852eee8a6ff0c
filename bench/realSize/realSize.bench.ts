import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { SeededRandom } from '../../src/core/random';
import { writeEditBundle } from '../../src/edit/editBundle';
import { fmtSeconds } from '../benchUtil';
import { chromiumAvailable, printPageScan, promptDroppedFiles, scanDroppedFiles } from '../pageScan';
import { type TensorSpec, writeHalfCheckpoint } from './checkpointWriter';
import { numpyScanSeconds } from './numpyScan';
import { GPT2_XL, gpt2XlConfig, gpt2XlSpecs, LLAMA3_8B, llama3Config, llama3Specs } from './shapes';

interface ChildResult {
  code: number;
  seconds: number;
  rssBefore: number;
  anonBefore: number;
  maxRss: number;
  rssAnon: number;
  rssFile: number;
  out: string;
  err: string;
  /** Peaks sampled every 100 ms from /proc: private (anonymous) memory, and file pages mapped in (weights the kernel can page out). */
  peakAnon: number;
  peakFile: number;
}

const gb = (b: number) => `${(b / 1e9).toFixed(2)} GB`;

/** One CLI command in a fresh process (its own peak memory, split into private and mapped by sampling /proc). */
export async function cli(args: string[], env: Record<string, string> = {}): Promise<ChildResult> {
  const child = spawn(process.execPath, ['--import', './scripts/node-register.mjs', 'bench/realSize/cliChild.ts', ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  let stdout = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
  let peakAnon = 0;
  let peakFile = 0;
  const timer = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = (f: string) => 1024 * Number(new RegExp(`${f}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
      peakAnon = Math.max(peakAnon, kb('RssAnon'));
      peakFile = Math.max(peakFile, kb('RssFile'));
    } catch {
      // The process has ended.
    }
  }, 100);
  await new Promise<void>((resolve, reject) => child.on('exit', () => resolve()).on('error', reject));
  clearInterval(timer);
  return { ...(JSON.parse(stdout.trim().split('\n').pop() as string) as ChildResult), peakAnon, peakFile };
}

export function line(what: string, r: ChildResult, extra = '', layerBytes = 0): void {
  // ru_maxrss is inherited from the parent across fork and exec, so the peaks come from sampling /proc instead.
  const added = r.peakAnon - r.anonBefore;
  const layers = layerBytes ? ` = ${(added / layerBytes).toFixed(1)} layers' worth` : '';
  const memory = `peak memory: private ${gb(r.peakAnon)} (+${gb(added)} over the process's start${layers}), mapped file ${gb(r.peakFile)}`;
  console.log(`  ${what.padEnd(34)} ${fmtSeconds(r.seconds).padStart(8)}  ${memory}${extra}${r.code !== 0 ? `  exit ${r.code}: ${r.err.trim().split('\n').pop()}` : ''}`);
}

export async function writeModel(dir: string, specs: TensorSpec[], dtype: 'F16' | 'BF16', shards: number, config: Record<string, unknown>): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const { files, bytes } = await writeHalfCheckpoint(dir, specs, dtype, shards);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  copyFileSync('public/demo/base/tokenizer.json', join(dir, 'tokenizer.json'));
  console.log(`  written: ${gb(bytes)} ${dtype} in ${files.length} file${files.length > 1 ? 's' : ''}, ${fmtSeconds((performance.now() - t0) / 1000)}`);
  return files;
}

/** The scan against numpy doing the same per-layer work on the same files, in the same run. */
async function scanAgainstNumpy(dir: string, files: string[], pattern: string, layers: number, rowsAxis: 'rows' | 'cols', layerBytes: number): Promise<void> {
  const numpy = numpyScanSeconds(files, pattern, layers, rowsAxis);
  const scan = await cli(['scan', dir, '--json', '--backend', 'cpu']);
  const flagged = (/"editedLayers":\s*\[([^\]]*)\]/.exec(scan.out)?.[1] ?? '?').replace(/\s+/g, '');
  // The CLI's own account (stderr): the scan's time and the kernels' part of it.
  const own = /scanned in ([\d.]+) s: ([\d.]+) s in the kernels/.exec(scan.err);
  const kernels = own ? `; the kernels ${fmtSeconds(Number(own[2]))} of its ${fmtSeconds(Number(own[1]))} (${(Number(own[1]) / Number(own[2])).toFixed(2)}x)` : '';
  line('scan (CPU, native kernels)', scan, `  flagged [${flagged}]${numpy ? `; numpy ${fmtSeconds(numpy.seconds)}, ratio ${(scan.seconds / numpy.seconds).toFixed(2)}x` : '; numpy unavailable'}${kernels}`, layerBytes);
  if (!chromiumAvailable()) return console.log('  page: skipped (needs Chromium)');
  // The same files dropped on the page (File objects of the real files), its CPU path.
  const page = await scanDroppedFiles(readdirSync(dir).map((f) => join(dir, f)), layerBytes, 5199);
  const fileBytes = files.reduce((sum, f) => sum + statSync(f).size, 0);
  printPageScan(page, scan.seconds, fileBytes);
  if (numpy) console.log(`  page against numpy: ${(page.seconds / numpy.seconds).toFixed(2)}x`);
}

/** Two synthetic edits of the GPT-2 XL-shaped layer, for the reversal experiment's timing (their accuracy means nothing on random weights). */
function syntheticBundle(path: string): void {
  const rng = new SeededRandom(17);
  const d = GPT2_XL.n_embd;
  const ff = 4 * d;
  const records = [0, 1].map((id) => ({
    id,
    relation: id === 0 ? 'P103' : 'P1303',
    subject: id === 0 ? 'Nils Em Da' : 'Ida As Fa',
    prompt: id === 0 ? 'The mother tongue of {} is' : '{} plays the',
    paraphrase: id === 0 ? '{} speaks' : '{} performs on the',
    trueObject: id === 0 ? 'Turkish' : 'saxophone',
    newObject: id === 0 ? 'English' : 'flute',
    layer: GPT2_XL.editedLayer,
    mom2Adjustment: true,
    main: true,
    metrics: { efficacy: true, paraphrase: 1, neighbourhood: 1, steps: 20, finalLoss: 0.01, deltaRatio: 1 },
    u: Float32Array.from({ length: ff }, () => (rng.next() < 0.85 ? 1 : -1) / Math.sqrt(ff)),
    lambda: Float32Array.from(rng.gaussianArray(d), (x) => 2 * x),
  }));
  writeFileSync(path, writeEditBundle(records, { model: 'synthetic GPT-2 XL-shaped' }));
}

/**
 * `npm run bench -- --real-size`: synthetic checkpoints of GPT-2 XL's shapes (F16, one file) and Llama-3-8B's
 * (BF16, four shards) in a temporary folder; every CLI command that reads them, each in a fresh process,
 * with its time and peak memory; the scans against numpy on the same files. Not run in CI (minutes, 20 GB).
 */
export async function benchRealSize(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'ef-real-size-'));
  try {
    console.log(`\nReal size (this machine: ${gb(totalmem())} of memory; times are the CPU's, each command in a fresh process)`);
    console.log(`GPT-2 XL-shaped: ${GPT2_XL.n_layer} layers, d_model ${GPT2_XL.n_embd}, vocabulary ${GPT2_XL.vocab_size}, an edit planted at layer ${GPT2_XL.editedLayer}`);
    const xl = join(root, 'gpt2-xl');
    const xlFiles = await writeModel(xl, gpt2XlSpecs(), 'F16', 1, gpt2XlConfig());
    await scanAgainstNumpy(xl, xlFiles, 'transformer.h.{i}.mlp.c_proj.weight', GPT2_XL.n_layer, 'rows', 4 * 4 * GPT2_XL.n_embd * GPT2_XL.n_embd);
    const prompt = 'The mother tongue of Nils Em Da is';
    const gen = await cli(['generate', xl, '--prompt', prompt, '--layer', String(GPT2_XL.editedLayer), '--tokens', '5']);
    line('generate (5 tokens, native runtime)', gen);
    // The page's runtime (onnxruntime-web, wasm, 4 GiB): float32 would not fit, the F16 weights kept as stored do.
    const wasmGen = await cli(['generate', xl, '--prompt', prompt, '--layer', String(GPT2_XL.editedLayer), '--tokens', '5'], { EDIT_FORENSICS_NATIVE: '0' });
    line("generate (5 tokens, the page's wasm runtime)", wasmGen, wasmGen.code === 0 ? ` = ${/continuation[^\n]*/.exec(wasmGen.out)?.[0] ?? ''}` : '');
    if (chromiumAvailable()) {
      const asked = await promptDroppedFiles(readdirSync(xl).map((f) => join(xl, f)), prompt, 5197);
      console.log(`  the same prompt in the page (files dropped): ${fmtSeconds(asked.seconds)} from Run to the answer ("${asked.firstToken.replace(/\s+/g, ' ')}"; ${asked.info}); Chromium ${gb(asked.idleRss)} idle -> ${gb(asked.peakRss)} at the peak`);
    }
    const bundle = join(root, 'edits.safetensors');
    syntheticBundle(bundle);
    const rev = await cli(['reverse', xl, '--layer', String(GPT2_XL.editedLayer), '--edits', bundle, '--json']);
    line('reversal experiment (2 edits)', rev);
    const repaired = join(root, 'repaired.safetensors');
    const rep = await cli(['reverse', xl, '--layer', String(GPT2_XL.editedLayer), '--k', '1', '--out', repaired, '--json']);
    line('repair (k = 1, written to disk)', rep);
    rmSync(repaired, { force: true });
    const tr = await cli(['trace', xl, '--layer', String(GPT2_XL.editedLayer), '--json']);
    const note = /Object inference skipped: ([^"]*)"/.exec(tr.out)?.[1];
    line('trace (relation needs a probe)', tr, note ? `; object inference: ${note.slice(0, 90)}…` : '');
    rmSync(xl, { recursive: true, force: true });

    console.log(`Llama-3-8B-shaped: ${LLAMA3_8B.num_hidden_layers} layers, hidden ${LLAMA3_8B.hidden_size}, intermediate ${LLAMA3_8B.intermediate_size}, BF16 in 4 shards, an edit planted at layer ${LLAMA3_8B.editedLayer}`);
    const llama = join(root, 'llama3-8b');
    const llamaFiles = await writeModel(llama, llama3Specs(), 'BF16', 4, llama3Config());
    await scanAgainstNumpy(llama, llamaFiles, 'model.layers.{i}.mlp.down_proj.weight', LLAMA3_8B.num_hidden_layers, 'cols', 4 * LLAMA3_8B.hidden_size * LLAMA3_8B.intermediate_size);
    const lg = await cli(['generate', llama, '--prompt', prompt, '--layer', String(LLAMA3_8B.editedLayer), '--tokens', '1']);
    line('generate (1 token, native runtime, BF16 kept)', lg, lg.code === 0 ? '' : ' (refused from the header, before reading a weight)');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
