// The page `npm run bench` opens once per configuration (?model=demo|d768&ep=wasm|webgpu&threads=1|2):
// onnxruntime-web fixes its thread count at first use, so each configuration gets a fresh page.
import * as ort from 'onnxruntime-web/webgpu';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import { MemorySource, resolverFromSources } from '../../src/formats/byteSource';
import { openCheckpoint } from '../../src/formats/checkpoint';
import { buildGraph } from '../../src/lm/graphs/buildGraph';
import { buildGpt2Graph } from '../../src/lm/graphs/gpt2Graph';
import type { BuiltGraph } from '../../src/lm/graphs/graphTypes';
import { LanguageModel } from '../../src/lm/languageModel';
import { D768, d768Weights, measureLm } from '../lmMeasure';

const params = new URLSearchParams(location.search);
const model = params.get('model') ?? 'demo';
const ep = params.get('ep') === 'webgpu' ? 'webgpu' : 'wasm';
ort.env.wasm.wasmPaths = { wasm: wasmUrl };
ort.env.wasm.numThreads = Number(params.get('threads') ?? 1);
ort.env.logLevel = 'error';

async function graph(): Promise<{ built: BuiltGraph; vocab: number; seq: number }> {
  if (model === 'demo') {
    const sources = await Promise.all(
      ['config.json', 'model.safetensors'].map(async (f) => new MemorySource(f, new Uint8Array(await (await fetch(`/demo/base/${f}`)).arrayBuffer()))),
    );
    return { built: await buildGraph('gpt2', await openCheckpoint(sources, resolverFromSources(sources), 'demo'), 0), vocab: 538, seq: 12 };
  }
  return { built: await buildGpt2Graph(D768, d768Weights(), { swapLayer: 1 }), vocab: D768.vocab_size, seq: 32 };
}

const status = document.getElementById('status') as HTMLElement;
const report = (value: unknown) => {
  (window as unknown as { benchResult: unknown }).benchResult = value;
  status.textContent = JSON.stringify(value);
};
try {
  const { built, vocab, seq } = await graph();
  const t0 = performance.now();
  const lm = await LanguageModel.create(ort, built, ep);
  const sessionSeconds = (performance.now() - t0) / 1000;
  const timings = await measureLm(lm, vocab, seq, model === 'demo' ? 15 : 5);
  await lm.release();
  report({ model, ep, threads: ort.env.wasm.numThreads, isolated: crossOriginIsolated, seq, sessionSeconds, ...timings });
} catch (error) {
  report({ error: error instanceof Error ? error.message : String(error) });
}
