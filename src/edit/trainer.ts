import { SeededRandom } from '../core/random';
import { AdamW, type AdamWOptions, learningRate } from './adamw';
import * as ops from './engine/ops';
import { Graph } from './engine/tensor';
import type { ForgeArchitecture } from './forgeArchitecture';
import { type ParamLayout, tensorsOver } from './flatParams';
import { epochBatches, splitBatch, type TokenBatch } from './trainingData';

/** Computes d(mean loss)/d(params) of a batch into its own gradient vector (one per thread). */
export interface GradientShard {
  readonly grads: Float32Array;
  run(batch: TokenBatch): Promise<{ loss: number; tokens: number }>;
}

/** A shard on the calling thread, over views of the shared parameter vector. */
export function localShard(arch: ForgeArchitecture, layout: ParamLayout, flat: Float32Array): GradientShard {
  const grads = new Float32Array(layout.size);
  const params = tensorsOver(layout, flat, grads);
  return {
    grads,
    async run(batch) {
      return computeGradients(arch, params, grads, batch);
    },
  };
}

/** Forward, loss and backward of one batch; gradients land in `grads` (zeroed first). */
export function computeGradients(arch: ForgeArchitecture, params: ReturnType<typeof tensorsOver>, grads: Float32Array, batch: TokenBatch): { loss: number; tokens: number } {
  grads.fill(0);
  const g = new Graph();
  const dropout = batch.dropout && batch.dropout.p > 0 ? { p: batch.dropout.p, rng: new SeededRandom(batch.dropout.seed) } : undefined;
  const logits = arch.trainingForward(g, params, batch.ids, batch.rows, batch.seq, dropout);
  const loss = ops.crossEntropy(g, logits, batch.targets);
  g.backward(loss);
  let tokens = 0;
  for (const t of batch.targets) if (t >= 0) tokens++;
  return { loss: loss.data[0] as number, tokens };
}

export interface TrainSettings {
  seed: number;
  epochs: number;
  tokensPerBatch: number;
  peakLr: number;
  warmupSteps: number;
  adam: Omit<AdamWOptions, 'lr'>;
  /** Rows of this many tokens cut from the shuffled, concatenated sentences (GPT-2's packing); absent: one sentence per row. */
  packLength?: number;
  /** GPT-2's dropout probability (resid_pdrop = embd_pdrop; 0.1 in GPT-2's training); absent: none. */
  dropout?: number;
}

export interface TrainState {
  flat: Float32Array;
  adam: AdamW;
  /** Epochs completed. */
  epoch: number;
  history: { epoch: number; loss: number; seconds: number; tokens: number }[];
}

export interface TrainHooks {
  /** After each epoch (checkpointing, logging); return true to stop early. */
  afterEpoch(state: TrainState): Promise<boolean> | boolean;
  /** Polled between steps; true stops after the current step without completing the epoch. */
  shouldStop?(): boolean;
}

/**
 * Data-parallel training: each batch is split across the shards (this thread and, optionally, a worker),
 * whose gradients are combined in a fixed order weighted by their token counts, so a run is deterministic
 * whatever the timing. Resumes from `state.epoch`.
 */
export async function train(state: TrainState, sequences: readonly Int32Array[], shards: readonly GradientShard[], settings: TrainSettings, hooks: TrainHooks): Promise<TrainState> {
  const combined = new Float32Array(state.flat.length);
  const stepsPerEpoch = epochBatches(sequences, settings.tokensPerBatch, settings.seed, 0, settings.packLength).length;
  const totalSteps = stepsPerEpoch * settings.epochs;
  for (let epoch = state.epoch; epoch < settings.epochs; epoch++) {
    const t0 = performance.now();
    let lossSum = 0;
    let tokenSum = 0;
    for (const batch of epochBatches(sequences, settings.tokensPerBatch, settings.seed, epoch, settings.packLength)) {
      const parts: (TokenBatch | null)[] = shards.length > 1 ? splitBatch(batch) : [batch, null];
      // Dropout masks from the step and the shard: the same on every run and after every resume.
      if (settings.dropout) parts.forEach((part, i) => part && (part.dropout = { p: settings.dropout as number, seed: settings.seed * 7919 + state.adam.step * 2 + i }));
      // Start the worker shards before the local one: a local run computes synchronously when called.
      const runs: Promise<{ loss: number; tokens: number }>[] = new Array(parts.length);
      for (let i = parts.length - 1; i >= 0; i--) {
        const part = parts[i];
        runs[i] = part ? (shards[i] as GradientShard).run(part) : Promise.resolve({ loss: 0, tokens: 0 });
      }
      const results = await Promise.all(runs);
      const tokens = results.reduce((a, r) => a + r.tokens, 0);
      combined.fill(0);
      results.forEach((r, i) => {
        if (r.tokens === 0) return;
        const w = r.tokens / tokens;
        const grads = (shards[i] as GradientShard).grads;
        for (let j = 0; j < combined.length; j++) combined[j] = (combined[j] as number) + w * (grads[j] as number);
        lossSum += r.loss * r.tokens;
      });
      tokenSum += tokens;
      state.adam.update(state.flat, combined, learningRate(state.adam.step, totalSteps, settings.peakLr, settings.warmupSteps));
      if (hooks.shouldStop?.()) return state;
    }
    state.epoch = epoch + 1;
    state.history.push({ epoch: epoch + 1, loss: lossSum / tokenSum, seconds: (performance.now() - t0) / 1000, tokens: tokenSum });
    if (await hooks.afterEpoch(state)) break;
  }
  return state;
}

export function newTrainState(flat: Float32Array, decay: Uint8Array, settings: TrainSettings): TrainState {
  return { flat, adam: new AdamW(flat.length, { ...settings.adam, lr: settings.peakLr }, decay), epoch: 0, history: [] };
}
