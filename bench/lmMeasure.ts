import { SeededRandom } from '../src/core/random';
import type { Gpt2GraphConfig } from '../src/lm/graphs/gpt2Graph';
import type { LanguageModel } from '../src/lm/languageModel';
import { fillNoise, medianSeconds } from './benchUtil';

/** GPT-2 small's width and vocabulary with four layers: the size where the unembedding dominates. */
export const D768: Gpt2GraphConfig = { vocab_size: 50257, n_positions: 128, n_embd: 768, n_layer: 4, n_head: 12, layer_norm_epsilon: 1e-5 };

/** Random GPT-2 weights for `D768` by tensor name (layer norms near one, the rest small noise). */
export function d768Weights(): (name: string) => Promise<Float32Array> {
  let seed = 1;
  const d = D768.n_embd;
  const shapeOf = (name: string): number[] => {
    if (name.endsWith('wte.weight')) return [D768.vocab_size, d];
    if (name.endsWith('wpe.weight')) return [D768.n_positions, d];
    if (name.includes('c_attn.weight')) return [d, 3 * d];
    if (name.includes('c_attn.bias')) return [3 * d];
    if (name.includes('c_fc.weight')) return [d, 4 * d];
    if (name.includes('c_fc.bias')) return [4 * d];
    if (name.includes('mlp.c_proj.weight')) return [4 * d, d];
    if (name.includes('attn.c_proj.weight')) return [d, d];
    return [d];
  };
  return async (name) => {
    const values = new Float32Array(shapeOf(name).reduce((a, b) => a * b, 1));
    fillNoise(values, seed++);
    const offset = name.includes('ln_') && name.endsWith('weight') ? 1 : 0;
    for (let i = 0; i < values.length; i++) values[i] = (values[i] as number) * 0.02 + offset;
    return values;
  };
}

export interface LmTimings {
  /** Median seconds of one forward pass over one prompt of `seq` tokens. */
  forward: number;
  /** Median seconds of handing the session another MLP matrix and running once. */
  swapThenForward: number;
  /** Median seconds of one call with 16 prompts of `seq` tokens (null: skipped, over the time budget). */
  batched16: number | null;
}

/**
 * Forward passes and swaps on a session, after a warm-up run; at most `repeats` per measurement, fewer when
 * one pass is slow (an emulated GPU), so each measurement stays near `budgetSeconds`.
 */
export async function measureLm(lm: LanguageModel, vocab: number, seq: number, maxRepeats: number, budgetSeconds = 20): Promise<LmTimings> {
  const [rows, cols] = lm.swapShape;
  const rng = new SeededRandom(3);
  const prompt = Int32Array.from({ length: seq }, () => rng.nextInt(vocab));
  const matrices = [11, 12].map((seed) => {
    const m = new Float32Array(rows * cols);
    fillNoise(m, seed);
    return m;
  });
  await lm.setSwap(matrices[0] as Float32Array);
  const first = await medianSeconds(() => lm.nextTokenLogProbs([prompt]), 1, 1);
  const repeats = Math.max(1, Math.min(maxRepeats, Math.floor(budgetSeconds / first)));
  const forward = await medianSeconds(() => lm.nextTokenLogProbs([prompt]), repeats, repeats > 1 ? 1 : 0);
  let which = 0;
  const swapThenForward = await medianSeconds(async () => {
    which = 1 - which;
    await lm.setSwap(matrices[which] as Float32Array);
    await lm.nextTokenLogProbs([prompt]);
  }, repeats, 0);
  const batch = Array.from({ length: 16 }, () => prompt);
  const batched16 = 16 * forward <= budgetSeconds ? await medianSeconds(() => lm.nextTokenLogProbs(batch), Math.max(1, Math.min(3, repeats >> 1)), 0) : null;
  return { forward, swapThenForward, batched16 };
}
