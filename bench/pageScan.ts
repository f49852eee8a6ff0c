import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chromium, type Page } from '@playwright/test';
import { createServer } from 'vite';
import { CHROMIUM_ARGS } from '../playwright.config';
import { viewTab } from '../e2e/views';
import { fmtSeconds } from './benchUtil';

export function chromiumAvailable(): boolean {
  return existsSync(process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium');
}

/** The dev server on `port` and a page in Chromium with the app's flags; `close` ends both. */
export async function openBenchPage(port: number): Promise<{ page: Page; close: () => Promise<void> }> {
  const server = await createServer({ configFile: 'vite.config.ts', logLevel: 'error', server: { port, strictPort: true, host: 'localhost' } });
  await server.listen();
  const browser = await chromium.launch({ executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium', args: CHROMIUM_ARGS });
  return {
    page: await browser.newPage(),
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}

/** Resident memory of every Chromium process together (bytes), from ps. */
export function chromiumRss(): number {
  try {
    const out = execFileSync('ps', ['-C', 'chromium', '-o', 'rss='], { encoding: 'utf8' });
    return out.split('\n').reduce((a, l) => a + (Number(l.trim()) || 0), 0) * 1024;
  } catch {
    return 0;
  }
}

/** PSS of each Chromium process by pid, with its kind (browser, renderer, gpu-process, utility...). */
function chromiumPssByProcess(): Map<number, { kind: string; pss: number }> {
  const out = new Map<number, { kind: string; pss: number }>();
  try {
    const rows = execFileSync('ps', ['-C', 'chromium', '-o', 'pid=,args='], { encoding: 'utf8' }).split('\n').map((l) => l.trim()).filter(Boolean);
    for (const row of rows) {
      const pid = Number(row.split(/\s+/)[0]);
      const kind = /--type=(\S+)/.exec(row)?.[1] ?? 'browser';
      try {
        out.set(pid, { kind, pss: 1024 * Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) });
      } catch {
        // The process ended between ps and the read.
      }
    }
  } catch {
    // No ps: no breakdown.
  }
  return out;
}

/**
 * Chromium's proportional set size (PSS) summed over its processes: a page shared by the browser and a
 * renderer (the buffers a dropped File's bytes cross between them) counts once, where summed RSS counts it
 * in each. Read from /proc/<pid>/smaps_rollup; 0 where that is not readable.
 */
function chromiumPss(): number {
  try {
    const pids = execFileSync('ps', ['-C', 'chromium', '-o', 'pid='], { encoding: 'utf8' }).split('\n').map((l) => l.trim()).filter(Boolean);
    let total = 0;
    for (const pid of pids) {
      try {
        total += 1024 * Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
      } catch {
        // The process ended between ps and the read.
      }
    }
    return total;
  } catch {
    return 0;
  }
}

export interface PageScan {
  seconds: number;
  verdict: string;
  /** What the page says about its own time: total, in the kernels, waiting for the file. */
  timing: string;
  /** The progress line a few seconds in (elapsed and estimate). */
  progress: string;
  backend: string;
  /** Chromium's growth over idle, in layers' worth: RSS summed, PSS summed, and PSS by process kind. */
  rssLayers: number;
  pssLayers: number;
  byProcess: string;
  idleRss: number;
  peakRss: number;
}

/**
 * `files` dropped on the page (as a user would: File objects of the real files, several GB) and scanned;
 * Chromium's memory sampled every 500 ms from /proc over its idle level before the drop.
 */
export async function scanDroppedFiles(files: string[], layerBytes: number, port: number): Promise<PageScan> {
  const { page, close } = await openBenchPage(port);
  let peak = 0;
  let peakPss = 0;
  let idleByProcess = new Map<number, { kind: string; pss: number }>();
  const peakByProcess = new Map<number, { kind: string; pss: number }>();
  const sampler = setInterval(() => {
    peak = Math.max(peak, chromiumRss());
    peakPss = Math.max(peakPss, chromiumPss());
    for (const [pid, p] of chromiumPssByProcess()) if (p.pss > (peakByProcess.get(pid)?.pss ?? 0)) peakByProcess.set(pid, p);
  }, 500);
  try {
    await page.goto(`http://localhost:${port}/?model=none`);
    await page.getByTestId('backend').filter({ hasText: 'Computing' }).waitFor({ timeout: 60_000 });
    const idle = chromiumRss();
    const idlePss = chromiumPss();
    idleByProcess = chromiumPssByProcess();
    await page.getByTestId('model-drop-input').setInputFiles(files);
    const t1 = performance.now();
    await page.getByRole('button', { name: 'Scan for edits' }).click();
    await page.getByTestId('progress-time').filter({ hasText: 'left' }).waitFor({ timeout: 300_000 });
    const progress = await page.getByTestId('progress-time').innerText();
    await page.getByTestId('layer-table').waitFor({ timeout: 3_600_000 });
    const seconds = (performance.now() - t1) / 1000;
    const growth = [...peakByProcess]
      .map(([pid, p]) => ({ kind: p.kind, added: p.pss - (idleByProcess.get(pid)?.pss ?? 0) }))
      .filter((g) => g.added > 1e6)
      .sort((a, b) => b.added - a.added);
    return {
      seconds,
      verdict: await page.getByTestId('verdict').innerText(),
      timing: (await page.getByTestId('scan-timing').innerText()).replace(/^ · /, ''),
      progress,
      backend: (await page.getByTestId('backend').innerText()).split(':')[0] ?? '',
      rssLayers: (peak - idle) / layerBytes,
      pssLayers: idlePss > 0 ? (peakPss - idlePss) / layerBytes : Number.NaN,
      byProcess: growth.map((g) => `${g.kind} +${(g.added / layerBytes).toFixed(1)}`).join(', '),
      idleRss: idle,
      peakRss: peak,
    };
  } finally {
    clearInterval(sampler);
    await close();
  }
}

/** The page scan's lines of a bench's output. */
export function printPageScan(r: PageScan, cliSeconds: number, fileBytes: number): void {
  const kernels = /: ([\d.]+) s in the kernels/.exec(r.timing);
  const own = /scanned in ([\d.]+) s/.exec(r.timing);
  const ratio = kernels && own ? ` (${(Number(own[1]) / Number(kernels[1])).toFixed(2)}x the kernels' own time)` : '';
  console.log(`  page (${r.backend}): ${fmtSeconds(r.seconds)} = ${(r.seconds / cliSeconds).toFixed(2)}x the CLI; "${r.verdict}"; progress said "${r.progress}" early on`);
  console.log(`  the page says: ${r.timing}${ratio}`);
  console.log(`  Chromium's memory, RSS summed over its processes: ${(r.idleRss / 1e6).toFixed(0)} MB idle, peak ${(r.peakRss / 1e6).toFixed(0)} MB: the scan added ${r.rssLayers.toFixed(1)} layers' worth (${((100 * (r.peakRss - r.idleRss)) / fileBytes).toFixed(1)}% of the files)`);
  console.log(`  the same as PSS (shared pages counted once): ${r.pssLayers.toFixed(1)} layers' worth; by process: ${r.byProcess}`);
}

export interface PagePrompt {
  seconds: number;
  /** The page's line on the opened model (family, runtime, threads), or its error. */
  info: string;
  firstToken: string;
  peakRss: number;
  idleRss: number;
}

/**
 * `files` dropped on the page and scanned, then `prompt` run in the Prompt tab (the page's language-model
 * worker opens the model at that point): time from Run to the answer, and Chromium's peak memory over idle.
 */
export async function promptDroppedFiles(files: string[], prompt: string, port: number, query = 'model=none'): Promise<PagePrompt> {
  const { page, close } = await openBenchPage(port);
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, chromiumRss())), 500);
  try {
    await page.goto(`http://localhost:${port}/?${query}`);
    await page.getByTestId('backend').filter({ hasText: 'Computing' }).waitFor({ timeout: 60_000 });
    const idleRss = chromiumRss();
    // A stalled read the page recovered from (src/formats/byteSource) is said in the bench's output.
    page.on('console', (m) => m.text().includes('delivered nothing') && console.log(`  page: ${m.text()}`));
    await page.getByTestId('model-drop-input').setInputFiles(files);
    await page.getByRole('button', { name: 'Scan for edits' }).click();
    await page.getByTestId('layer-table').waitFor({ timeout: 3_600_000 });
    await viewTab(page, 'Prompt').click();
    await page.getByRole('textbox', { name: 'Prompt' }).fill(prompt);
    const t0 = performance.now();
    await page.getByRole('button', { name: 'Run' }).click();
    const answer = page.getByRole('region', { name: 'Loaded model' }).locator('.top-tokens li').first();
    const error = page.getByRole('alert');
    await Promise.race([answer.waitFor({ timeout: 1_800_000 }), error.waitFor({ timeout: 1_800_000 })]);
    const seconds = (performance.now() - t0) / 1000;
    const failed = await error.isVisible();
    return {
      seconds,
      info: failed ? `error: ${await error.innerText()}` : await page.getByTestId('prompt-info').innerText(),
      firstToken: failed ? '' : await answer.innerText(),
      peakRss: peak,
      idleRss,
    };
  } finally {
    clearInterval(sampler);
    await close();
  }
}
