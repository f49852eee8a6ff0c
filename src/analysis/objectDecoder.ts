import { SeededRandom } from '../core/random';
import { AdamW } from '../edit/adamw';
import { Graph, Tensor } from '../edit/engine/tensor';
import * as ops from '../edit/engine/ops';
import { decayMask, paramLayout, tensorsOver } from '../edit/flatParams';
import type { EditableModel } from '../edit/editableModel';

/**
 * The paper's object decoder (Sec. 6.1-6.2): m new input tokens with random embeddings, one layer of the
 * model tuned (every weight of it but the edited matrix) so that the model, with an edited matrix
 * W + u lambda^T in place, outputs that edit's new object. The edited matrices vary per training example,
 * so a batch carries one rank-one update per sequence (ops.addRankOnePerSequence).
 */
export interface DecoderExample {
  u: Float32Array;
  lambda: Float32Array;
  /** Token id of the new object's first token. */
  target: number;
}

export interface DecoderSettings {
  inputTokens: number;
  /** Layer whose weights are tuned. */
  tunedLayer: number;
  /** Layer of the edited matrix. */
  editLayer: number;
  lr: number;
  beta1: number;
  beta2: number;
  weightDecay: number;
  batchSize: number;
  maxEpochs: number;
  patience: number;
  seed: number;
}

/**
 * The paper's settings, with the learning rate scaled up for a model of 0.5M parameters (paper: 2e-5 on
 * 1.5-8B): 3e-3 had the lowest validation loss among 3e-4, 1e-3, 3e-3 and 1e-2 on the demo (layer 0).
 */
export const PAPER_DECODER: Omit<DecoderSettings, 'tunedLayer' | 'editLayer'> = {
  inputTokens: 5,
  lr: 3e-3,
  beta1: 0.9,
  beta2: 0.98,
  weightDecay: 0.01,
  batchSize: 32,
  maxEpochs: 100,
  patience: 3,
  seed: 7,
};

export interface ObjectDecoder {
  tunedLayer: number;
  editLayer: number;
  /** [inputTokens x d_model] */
  inputEmbeddings: Float32Array;
  inputTokens: number;
  /** The tuned layer's parameters by their Hugging Face names. */
  layerParams: Map<string, Tensor>;
}

export interface DecoderHistory {
  epoch: number;
  trainLoss: number;
  validationLoss: number;
}

/** Names and shapes of the tuned layer's parameters (the edited matrix excluded when it sits in that layer), any family. */
export function tunedParamNames(model: EditableModel, tunedLayer: number, editLayer: number): [string, number[]][] {
  const prefix = model.blockPrefix(tunedLayer);
  const edited = model.mlpOutput(editLayer).name;
  return [...model.params].filter(([name]) => name.startsWith(prefix) && name !== edited).map(([name, t]) => [name, [...t.shape]]);
}

/** Random input embeddings with the per-entry spread of the model's token embeddings. */
function randomInputs(model: EditableModel, m: number, seed: number): Float32Array {
  const wte = (model.params.get(model.tokenEmbedding) as Tensor).data;
  let sq = 0;
  for (const x of wte) sq += x * x;
  const std = Math.sqrt(sq / wte.length);
  const rng = new SeededRandom(seed);
  return Float32Array.from({ length: m * model.dModel }, () => rng.gaussian() * std);
}

/**
 * Logits at the last input position for a batch of edited matrices W + u lambda^T, or for one pass with the
 * matrix the parameters hold (`batch` null: a whole edited model).
 */
function decoderLogits(g: Graph | null, model: EditableModel, decoder: Pick<ObjectDecoder, 'inputEmbeddings' | 'inputTokens' | 'editLayer'>, batch: readonly Pick<DecoderExample, 'u' | 'lambda'>[] | null): Tensor {
  const m = decoder.inputTokens;
  const d = model.dModel;
  const n = model.dFF;
  const count = batch?.length ?? 1;
  const inputs = new Float32Array(count * m * d);
  for (let b = 0; b < count; b++) inputs.set(decoder.inputEmbeddings, b * m * d);
  let rankOne: { layer: number; u: Float32Array; lambda: Float32Array } | undefined;
  if (batch) {
    const us = new Float32Array(count * n);
    const ls = new Float32Array(count * d);
    batch.forEach((e, b) => {
      us.set(e.u, b * n);
      ls.set(e.lambda, b * d);
    });
    rankOne = { layer: decoder.editLayer, u: us, lambda: ls };
  }
  return model.forward(g, new Int32Array(count * m), count, m, {
    inputEmbeddings: new Tensor(inputs, [count * m, d]),
    ...(rankOne ? { mlpRankOne: rankOne } : {}),
    logitRows: Int32Array.from({ length: count }, (_, b) => b * m + m - 1),
  });
}

/** The model with the tuned layer's parameters in place. */
function withLayer(model: EditableModel, layer: ReadonlyMap<string, Tensor>): EditableModel {
  const out = new Map(model.params);
  for (const [name, t] of layer) out.set(name, t);
  return model.withParams(out);
}

function meanLoss(model: EditableModel, decoder: ObjectDecoder, set: readonly DecoderExample[], batchSize: number): number {
  let total = 0;
  const tuned = withLayer(model, decoder.layerParams);
  for (let i = 0; i < set.length; i += batchSize) {
    const part = set.slice(i, i + batchSize);
    const logits = decoderLogits(null, tuned, decoder, part);
    total += (ops.crossEntropy(null, logits, Int32Array.from(part, (e) => e.target)).data[0] as number) * part.length;
  }
  return total / set.length;
}

/** Trains a decoder; early stopping on validation loss keeps the best epoch's weights. */
export function trainObjectDecoder(
  model: EditableModel,
  train: readonly DecoderExample[],
  validation: readonly DecoderExample[],
  settings: DecoderSettings,
  onEpoch: (h: DecoderHistory) => void = () => undefined,
  checkpoint: () => void = () => undefined,
): { decoder: ObjectDecoder; history: DecoderHistory[]; bestEpoch: number } {
  const shapes = tunedParamNames(model, settings.tunedLayer, settings.editLayer);
  const layout = paramLayout(shapes);
  const flat = new Float32Array(layout.size);
  for (const e of layout.entries) flat.set((model.params.get(e.name) as Tensor).data, e.offset);
  const grads = new Float32Array(layout.size);
  const tuned = tensorsOver(layout, flat, grads);
  const optimiser = new AdamW(layout.size, { lr: settings.lr, beta1: settings.beta1, beta2: settings.beta2, eps: 1e-8, weightDecay: settings.weightDecay, clipNorm: 1 }, decayMask(layout));
  const decoder: ObjectDecoder = { tunedLayer: settings.tunedLayer, editLayer: settings.editLayer, inputEmbeddings: randomInputs(model, settings.inputTokens, settings.seed), inputTokens: settings.inputTokens, layerParams: tuned };
  const working = withLayer(model, tuned);
  const rng = new SeededRandom(settings.seed + 1);
  const order = train.map((_, i) => i);
  const history: DecoderHistory[] = [];
  let best = { loss: Infinity, epoch: -1, flat: Float32Array.from(flat) };
  for (let epoch = 0; epoch < settings.maxEpochs; epoch++) {
    rng.shuffle(order);
    let trainTotal = 0;
    for (let i = 0; i < order.length; i += settings.batchSize) {
      checkpoint();
      const part = order.slice(i, i + settings.batchSize).map((j) => train[j] as DecoderExample);
      grads.fill(0);
      const g = new Graph();
      const loss = ops.crossEntropy(g, decoderLogits(g, working, decoder, part), Int32Array.from(part, (e) => e.target));
      g.backward(loss);
      optimiser.update(flat, grads, settings.lr);
      trainTotal += (loss.data[0] as number) * part.length;
    }
    const validationLoss = meanLoss(model, decoder, validation, 128);
    const h = { epoch, trainLoss: trainTotal / train.length, validationLoss };
    history.push(h);
    onEpoch(h);
    if (validationLoss < best.loss) best = { loss: validationLoss, epoch, flat: Float32Array.from(flat) };
    else if (epoch - best.epoch >= settings.patience) break;
  }
  flat.set(best.flat);
  const layerParams = new Map([...tuned].map(([name, t]) => [name, new Tensor(Float32Array.from(t.data), t.shape, false)]));
  return { decoder: { ...decoder, layerParams }, history, bestEpoch: best.epoch };
}

/** Next-token log-probabilities the decoder reads for each edit (rank-one factors of the edited layer). */
export function decodeUpdates(model: EditableModel, decoder: ObjectDecoder, edits: readonly Pick<DecoderExample, 'u' | 'lambda'>[]): Float32Array[] {
  const out: Float32Array[] = [];
  const tuned = withLayer(model, decoder.layerParams);
  for (let i = 0; i < edits.length; i += 128) {
    const part = edits.slice(i, i + 128);
    const logp = ops.logSoftmax(null, decoderLogits(null, tuned, decoder, part));
    const v = model.vocabSize;
    part.forEach((_, b) => out.push(logp.data.slice(b * v, (b + 1) * v)));
  }
  return out;
}

/** The decoder on a whole model: its parameters already hold the (possibly edited) matrix; next-token log-probabilities. */
export function decodeModel(model: EditableModel, decoder: ObjectDecoder): Float32Array {
  return ops.logSoftmax(null, decoderLogits(null, withLayer(model, decoder.layerParams), decoder, null)).data;
}
