import type { Checkpoint } from '../formats/checkpoint';
import { FormatError } from '../formats/formatError';
import { locateLayer, readLayerRows } from './layerMatrix';
import { buildGraph } from '../lm/graphs/buildGraph';
import { LanguageModel, type OrtModule, type TextRuntime, topK } from '../lm/languageModel';
import { capacityRefusal, formatBytes, languageModelNeeds, runtimePlan, weightPrecision } from '../lm/modelNeeds';
import { loadTokenizer, type TextTokenizer } from '../lm/tokenizer';
import type { ByteSource } from '../formats/byteSource';
import type { WeightSink } from '../lm/onnx/weightSink';

/** Model opening's steps: weight bytes stored so far of about `total`, and what is happening. */
export type OpenProgress = (done: number, total: number, message: string) => void;

/** A runnable model: its session, tokenizer, and the stored MLP matrix of the swappable layer. */
export interface TextModel {
  lm: LanguageModel;
  tokenizer: TextTokenizer;
  family: string;
  layer: number;
  /** The checkpoint's own matrix of `layer`, [d_ff, d_model]. */
  storedMatrix: Float32Array;
}

/** The tokenizer that sits next to a checkpoint (tokenizer.json required, tokenizer_config.json if there). */
export async function loadTokenizerBeside(find: (name: string) => Promise<ByteSource | null>, label: string): Promise<TextTokenizer> {
  const tokenizerSource = await find('tokenizer.json');
  if (!tokenizerSource) throw new FormatError(label, 'no tokenizer.json next to the weights: running the model needs its tokenizer');
  const configSource = await find('tokenizer_config.json');
  return loadTokenizer(
    { name: tokenizerSource.name, bytes: await tokenizerSource.read(0, tokenizerSource.size) },
    configSource ? { name: configSource.name, bytes: await configSource.read(0, configSource.size) } : undefined,
  );
}

/**
 * Opens a checkpoint for running: family detection, a check that the runtime can hold it (from the header,
 * before any weight is read), the graph streamed into the runtime's weight store, the session, and the
 * checkpoint's own matrix swapped in. A bare onnxruntime-web module runs on wasm with weights in memory.
 */
export async function openTextModel(
  runtime: OrtModule | TextRuntime,
  checkpoint: Checkpoint,
  tokenizer: TextTokenizer,
  layer: number,
  options: { executionProvider?: 'wasm' | 'webgpu'; onProgress?: OpenProgress } = {},
): Promise<TextModel> {
  const { onProgress } = options;
  const r: TextRuntime = 'ort' in runtime ? runtime : { ort: runtime, executionProvider: options.executionProvider ?? 'wasm' };
  const { family } = locateLayer(checkpoint, layer);
  const needs = languageModelNeeds(checkpoint);
  const halfTypes = r.halfTypes ?? [];
  const refusal = r.capacity ? capacityRefusal(needs, r.capacity, halfTypes) : null;
  if (refusal) throw new FormatError(checkpoint.label, refusal);
  const plan = runtimePlan(needs, r.capacity, halfTypes);
  const precision = weightPrecision(checkpoint, plan, halfTypes);
  const lm = await LanguageModel.open(r, async (sink) => {
    // The counting wrapper only watches the weights go in: the runtime gets its own sink back.
    const graph = { ...(await buildGraph(family.id, checkpoint, layer, onProgress ? countingSink(sink, plan.weightBytes, onProgress) : sink, precision)), weights: sink };
    onProgress?.(plan.weightBytes, plan.weightBytes, 'opening the session (onnxruntime)');
    // Checked before the session opens (and, on the native runtime, before its weight file is read back).
    if (graph.vocabSize !== undefined && tokenizer.idLimit > graph.vocabSize) {
      throw new FormatError('tokenizer.json', `has token ids up to ${tokenizer.idLimit - 1}, but the model's embedding has ${graph.vocabSize} rows: the tokenizer belongs to another model`);
    }
    return graph;
  });
  const storedMatrix = (await readLayerRows(checkpoint, layer)).data;
  await lm.setSwap(storedMatrix);
  return { lm, tokenizer, family: family.id, layer, storedMatrix };
}

/**
 * `sink`, saying after each weight how many bytes of about `total` it holds (a few MB apart at most: a
 * GPT-2 XL-sized model takes a minute to open in the page, and the wait should show its progress).
 */
function countingSink(sink: WeightSink, total: number, onProgress: OpenProgress): WeightSink {
  let reported = -Infinity;
  return {
    get bytesWritten() {
      return sink.bytesWritten;
    },
    place(bytes) {
      const at = sink.place(bytes);
      const done = sink.bytesWritten;
      if (done - reported >= Math.max(4 * 2 ** 20, total / 200)) {
        reported = done;
        onProgress(Math.min(done, total), total, `reading the weights: ${formatBytes(Math.min(done, total))} of ${formatBytes(total)}`);
      }
      return at;
    },
  };
}

export interface Completion {
  prompt: string;
  /** Words of the prompt the tokenizer does not know (answered as its unknown token). */
  unknownWords: string[];
  top: { token: string; id: number; probability: number }[];
  continuation: string;
  continuationIds: number[];
}

/** Next-token top-k and a greedy continuation of `tokens` tokens, with whatever matrix is swapped in now. */
export async function completePrompt(model: TextModel, prompt: string, options: { topK?: number; tokens?: number } = {}): Promise<Completion> {
  const ids = Int32Array.from(model.tokenizer.encode(prompt));
  if (ids.length === 0) throw new FormatError('prompt', 'is empty after tokenization');
  if (ids.length > model.lm.maxPositions) throw new FormatError('prompt', `has ${ids.length} tokens; this model reads at most ${model.lm.maxPositions}`);
  const [logp] = await model.lm.nextTokenLogProbs([ids]);
  const top = topK(logp as Float32Array, options.topK ?? 5).map((t) => ({ ...t, token: model.tokenizer.tokenText(t.id) }));
  const continuationIds = await model.lm.generate(ids, options.tokens ?? 5);
  return { prompt, unknownWords: model.tokenizer.unknownWords(prompt), top, continuation: model.tokenizer.decode(continuationIds), continuationIds };
}
