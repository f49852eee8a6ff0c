import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuBackend, type MatrixBackend } from '../src/core/matrixBackend';
import { rowMatrix } from '../src/core/matrix';
import { randomizedSvd } from '../src/core/randomizedSvd';
import { openSafetensors } from '../src/formats/safetensors';
import { writeSafetensors } from '../src/formats/safetensorsWriter';
import { readTensorRows } from '../src/formats/tensorReader';
import { NodeFileSource } from '../src/cli/nodeFileSource';
import { fillNoise, fmtSeconds, medianSeconds } from './benchUtil';

/**
 * pcs and top-16 randomized SVD on the CPU path and the WebGPU path with identical inputs, beside the time
 * to only read the matrix's bytes from disk. Ratios are against the CPU in the same run.
 */
export async function benchKernels(gpu: MatrixBackend | null): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ef-bench-'));
  try {
    for (const [rows, cols] of [
      [3072, 768],
      [6400, 1600],
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
      const repeats = rows > 4000 ? 2 : 3;
      const measure = async (backend: MatrixBackend) => {
        const loaded = await backend.load(m);
        const pcs = await medianSeconds(() => loaded.pairwiseCosine(), repeats);
        const svd = await medianSeconds(() => randomizedSvd(loaded, { k: 16, oversampling: 10, powerIterations: 2 }), repeats);
        const upload = await medianSeconds(async () => (await backend.load(m)).release(), repeats);
        loaded.release();
        return { pcs, svd, upload };
      };
      const cpu = await measure(cpuBackend);
      console.log(`\n${rows} x ${cols} float32 (${((rows * cols * 4) / 1e6).toFixed(1)} MB)`);
      console.log(`  read bytes from disk (F32 -> Float32Array): ${fmtSeconds(read)}`);
      console.log(`  CPU    pcs ${fmtSeconds(cpu.pcs)} (${(cpu.pcs / read).toFixed(2)}x read)   rSVD top-16 ${fmtSeconds(cpu.svd)} (${(cpu.svd / read).toFixed(1)}x read)`);
      if (gpu) {
        const g = await measure(gpu);
        console.log(`  WebGPU pcs ${fmtSeconds(g.pcs)} (${(g.pcs / cpu.pcs).toFixed(2)}x CPU)   rSVD top-16 ${fmtSeconds(g.svd)} (${(g.svd / cpu.svd).toFixed(2)}x CPU)   upload ${fmtSeconds(g.upload)}`);
      } else {
        console.log('  WebGPU: no adapter, skipped');
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
