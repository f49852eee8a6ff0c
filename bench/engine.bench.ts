import { SeededRandom } from '../src/core/random';
import { gemmNTReference } from '../src/core/gemm';
import { useGemmKernel } from '../src/edit/engine/gemm';
import { nativeGemmNT } from '../src/native/nativeGemm';
import { wasmGemmNT } from '../src/wasm/wasmGemm';
import { flatten, paramLayout } from '../src/edit/flatParams';
import { FULL_FORGE } from '../src/edit/forgeConfig';
import { countParams, gpt2ParamShapes, initGpt2 } from '../src/edit/gpt2Model';
import { workerShard } from '../src/edit/node/workerShard';
import { localShard, type GradientShard } from '../src/edit/trainer';
import { splitBatch, type TokenBatch } from '../src/edit/trainingData';
import { medianSeconds } from './benchUtil';
import { forgeArchitecture } from '../src/edit/forgeArchitecture';

/** Plain dot products (four accumulators): the baseline the blocked kernel is measured against. */
function dotProducts(a: Float32Array, m: number, k: number, b: Float32Array, n: number, c: Float32Array): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, p = 0;
      for (; p + 3 < k; p += 4) {
        s0 += (a[i * k + p] as number) * (b[j * k + p] as number);
        s1 += (a[i * k + p + 1] as number) * (b[j * k + p + 1] as number);
        s2 += (a[i * k + p + 2] as number) * (b[j * k + p + 2] as number);
        s3 += (a[i * k + p + 3] as number) * (b[j * k + p + 3] as number);
      }
      for (; p < k; p++) s0 += (a[i * k + p] as number) * (b[j * k + p] as number);
      c[i * n + j] = s0 + s1 + s2 + s3;
    }
  }
}

/** The forge engine: kernel GFLOP/s against plain dot products, and a training step on one thread vs two. */
export async function benchEngine(): Promise<void> {
  const rng = new SeededRandom(1);
  const [m, k, n] = [1024, 96, 384];
  const a = rng.gaussianArray(m * k);
  const b = rng.gaussianArray(n * k);
  const c = new Float32Array(m * n);
  const flops = 2 * m * n * k;
  const blocked = await medianSeconds(async () => gemmNTReference(a, m, k, b, n, c), 5);
  const plain = await medianSeconds(async () => dotProducts(a, m, k, b, n, c), 5);
  const native = nativeGemmNT(1);
  const nativeTime = native ? await medianSeconds(async () => native(a, m, k, b, n, c), 20) : NaN;
  const wasm = wasmGemmNT();
  const wasmTime = wasm ? await medianSeconds(async () => wasm(a, m, k, b, n, c), 20) : NaN;
  console.log(`\nForge engine (${m} x ${k} times ${n} x ${k}^T):`);
  console.log(`  plain dot products ${(flops / plain / 1e9).toFixed(2)} GFLOP/s; 4x2-blocked TypeScript ${(flops / blocked / 1e9).toFixed(2)} GFLOP/s (${(plain / blocked).toFixed(2)}x); native (onnxruntime-node, 1 thread) ${(flops / nativeTime / 1e9).toFixed(2)} GFLOP/s (${(blocked / nativeTime).toFixed(2)}x the TypeScript kernel)`);
  console.log(`  WebAssembly SIMD (shaders/gemm.wat, the page's engine; operands copied in and out) ${(flops / wasmTime / 1e9).toFixed(2)} GFLOP/s (${(blocked / wasmTime).toFixed(2)}x the TypeScript kernel)`);
  // GPT-2 small's shapes in ROME's forward passes: an MLP product and the logits over a 50257-word vocabulary.
  for (const [mm, kk, nn] of [[150, 768, 3072], [15, 768, 50257]] as const) {
    const x = rng.gaussianArray(mm * kk);
    const y = rng.gaussianArray(nn * kk);
    const z = new Float32Array(mm * nn);
    const f = 2 * mm * nn * kk;
    const ts = await medianSeconds(async () => gemmNTReference(x, mm, kk, y, nn, z), 3);
    const w = wasm ? await medianSeconds(async () => wasm(x, mm, kk, y, nn, z), 5) : NaN;
    console.log(`  ${mm} x ${kk} times ${nn} x ${kk}^T: TypeScript ${(f / ts / 1e9).toFixed(2)} GFLOP/s, WebAssembly SIMD ${(f / w / 1e9).toFixed(2)} GFLOP/s (${(ts / w).toFixed(2)}x)`);
  }

  const config = { ...FULL_FORGE.model, vocab_size: 623 };
  const layout = paramLayout(gpt2ParamShapes(config));
  const shared = new SharedArrayBuffer(layout.size * 4);
  const flat = new Float32Array(shared);
  flatten(layout, initGpt2(config, 1), flat);
  // The forge's real batch: 16 packed rows of 64 tokens.
  const rows = 16;
  const seq = FULL_FORGE.train.packLength ?? 64;
  const batch: TokenBatch = { rows, seq, ids: Int32Array.from({ length: rows * seq }, () => rng.nextInt(623)), targets: Int32Array.from({ length: rows * seq }, () => rng.nextInt(623)) };
  const local = localShard(forgeArchitecture('gpt2', config), layout, flat);
  const worker = workerShard('gpt2', config, shared, layout.size);
  const step = async (shards: GradientShard[]) => {
    const parts = shards.length > 1 ? splitBatch(batch) : [batch];
    const runs = [];
    for (let i = parts.length - 1; i >= 0; i--) runs.unshift((shards[i] as GradientShard).run(parts[i] as TokenBatch));
    await Promise.all(runs);
  };
  const stepFlops = 6 * countParams(config) * rows * seq;
  useGemmKernel(null);
  const typescript = await medianSeconds(() => step([local]), 3);
  useGemmKernel(native);
  const one = await medianSeconds(() => step([local]), 3);
  // The worker thread installs the native kernel for itself.
  const two = await medianSeconds(() => step([local, worker]), 3);
  await worker.close();
  useGemmKernel(null);
  console.log(`  training step of the demo model (${rows * seq} tokens, 6N FLOPs per token): TypeScript GEMM 1 thread ${(stepFlops / typescript / 1e9).toFixed(2)} GFLOP/s; native GEMM 1 thread ${(stepFlops / one / 1e9).toFixed(2)} GFLOP/s (${(typescript / one).toFixed(2)}x), 2 threads ${(stepFlops / two / 1e9).toFixed(2)} GFLOP/s (${(typescript / two).toFixed(2)}x)`);
}
