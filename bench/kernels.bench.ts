import { availableParallelism } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuBackend, type LoadedMatrix, type MatrixBackend } from '../src/core/matrixBackend';
import { rowMatrix } from '../src/core/matrix';
import { randomizedSvd } from '../src/core/randomizedSvd';
import { openSafetensors } from '../src/formats/safetensors';
import { writeSafetensors } from '../src/formats/safetensorsWriter';
import { readTensorRows } from '../src/formats/tensorReader';
import { NodeFileSource } from '../src/cli/nodeFileSource';
import { nativeBackend } from '../src/native/nativeMatrixBackend';
import { wasmThreadsBackend } from './wasmThreads';
import { fillNoise, fmtSeconds, medianSeconds } from './benchUtil';
import { numpyTimes } from './numpyReference';

/** The panel width of randomized SVD's products: k = 16 plus oversampling 10. */
const PANEL = 26;

/**
 * The scan's kernels on identical inputs: the TypeScript CPU path, the native CPU path (the CLI's default),
 * the wasm path (the page's CPU path: WebAssembly SIMD kernel threads) and WebGPU when given, beside the time to read the bytes from disk and numpy's time for the same work in
 * the same run (the reference the README quotes). Shapes: GPT-2 XL's and Llama-3-8B's MLP output matrices.
 */
export async function benchKernels(gpu: MatrixBackend | null): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ef-bench-'));
  const native = nativeBackend(Math.min(8, availableParallelism()));
  // The page's CPU path: the resident WebAssembly SIMD kernels, here in Node with one kernel thread per core
  // (up to 4, as the page) on a shared memory.
  const wasmThreads = wasmThreadsBackend(Math.min(4, availableParallelism()));
  const wasm = wasmThreads.backend;
  try {
    for (const [rows, cols] of [
      [6400, 1600],
      [14336, 4096],
    ] as const) {
      const data = new Float32Array(rows * cols);
      fillNoise(data, rows);
      // A planted rank-one component, as an edit would leave.
      const u = new Float32Array(rows);
      const v = new Float32Array(cols);
      fillNoise(u, 7);
      fillNoise(v, 8);
      for (let i = 0; i < rows; i++) for (let c = 0; c < cols; c++) data[i * cols + c] = (data[i * cols + c] as number) + 0.5 * Math.abs(u[i] as number) * (v[c] as number);
      const path = join(dir, `m${rows}.safetensors`);
      writeFileSync(path, writeSafetensors([{ name: 'w', dtype: 'F32', shape: [rows, cols], values: data }]));
      const source = await NodeFileSource.open(path);
      const info = (await openSafetensors(source)).tensors.get('w')!;
      const read = await medianSeconds(() => readTensorRows(info, 0), 3);
      await source.close();

      const m = rowMatrix(rows, cols, data);
      const panel = new Float32Array(cols * PANEL);
      const tall = new Float32Array(rows * PANEL);
      fillNoise(panel, 3);
      fillNoise(tall, 4);
      const big = rows > 10_000;
      const measure = async (backend: MatrixBackend, repeats: number) => {
        const loaded: LoadedMatrix = await backend.load(m);
        const result = {
          matmul: await medianSeconds(() => loaded.multiply(panel, PANEL), repeats),
          matmulTransposed: await medianSeconds(() => loaded.multiplyTransposed(tall, PANEL), repeats),
          pcs: await medianSeconds(() => loaded.pairwiseCosine(), repeats),
          svd: await medianSeconds(() => randomizedSvd(loaded, { k: 16, oversampling: 10, powerIterations: 2 }), big ? 1 : repeats),
        };
        loaded.release();
        return result;
      };
      const flop = 2 * rows * cols * PANEL;
      const gf = (s: number) => `${(flop / s / 1e9).toFixed(1)} GFLOP/s`;
      console.log(`\n${rows} x ${cols} float32 (${((rows * cols * 4) / 1e6).toFixed(0)} MB); read from disk ${fmtSeconds(read)}`);
      const np = numpyTimes(data, rows, cols, PANEL, join(dir, 'matrix.f32'));
      const line = (name: string, t: { matmul: number; matmulTransposed: number; pcs: number; svd: number }, reference?: typeof t | null) => {
        const r = (x: number, y: number | undefined) => (y ? ` = ${(x / y).toFixed(2)}x numpy` : '');
        console.log(
          `  ${name.padEnd(30)} A B ${fmtSeconds(t.matmul)} (${gf(t.matmul)}${r(t.matmul, reference?.matmul)}); A^T B ${fmtSeconds(t.matmulTransposed)}${r(t.matmulTransposed, reference?.matmulTransposed)}; ` +
            `pcs ${fmtSeconds(t.pcs)}${r(t.pcs, reference?.pcs)}; rSVD top-16 ${fmtSeconds(t.svd)}${r(t.svd, reference?.svd)}`,
        );
      };
      if (np) line('numpy (OpenBLAS), reference', np);
      else console.log('  numpy: python3 with numpy not found, no reference');
      if (native) line(native.description, await measure(native, 5), np);
      line(wasm.description, await measure(wasm, 3), np);
      line('CPU (plain TypeScript)', await measure(cpuBackend, big ? 1 : 3), np);
      if (gpu) line(gpu.description, await measure(gpu, 2), np);
    }
  } finally {
    await wasmThreads.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
