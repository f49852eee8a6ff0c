import { bottomRankSeries } from '../core/bottomRank';
import type { MatrixBackend } from '../core/matrixBackend';
import { meanStd, type MeanStd } from '../core/meanStd';
import type { RowMatrix } from '../core/matrix';
import { FormatError } from '../formats/formatError';
import { accurateTopTriplets, type RunnableModel } from './reversal';

export interface UniquePredictions {
  /** Distinct greedy continuations over k = 0..maxK, per sample. */
  perSample: number[];
  summary: MeanStd;
}

/**
 * Paper Sec. 7.4 (Fig. 8): for each neutral sample, the greedy `tokens`-token continuations with W~(r, k)
 * for k = 0..maxK, and how many of them differ. Edited matrices, whose top components carry the edit,
 * give more distinct continuations than unedited ones. Every k runs all samples in batched calls.
 */
export async function uniquePredictions(
  model: RunnableModel,
  matrix: RowMatrix,
  samples: readonly string[],
  backend: MatrixBackend,
  options: { maxK?: number; tokens?: number; checkpoint?: () => void; progress?: (k: number, maxK: number) => void } = {},
): Promise<UniquePredictions> {
  const maxK = options.maxK ?? 15;
  const tokens = options.tokens ?? 5;
  const { lm, tokenizer } = model;
  if (samples.length === 0) throw new FormatError('neutral samples', 'no text samples were given');
  // Samples longer than the context leave room for the continuation (their first tokens are kept).
  const room = lm.maxPositions - tokens;
  if (room < 1) throw new FormatError('neutral samples', `the model reads only ${lm.maxPositions} tokens, too few for ${tokens}-token continuations`);
  const prompts = samples.map((s) => Int32Array.from(tokenizer.encode(s).slice(0, room)));
  const svd = await accurateTopTriplets(backend, matrix, maxK, options.checkpoint);
  const seen = samples.map(() => new Set<string>());
  for (const { k, matrix: approx } of bottomRankSeries(matrix, svd, maxK)) {
    options.checkpoint?.();
    options.progress?.(k, maxK);
    await lm.setSwap(approx.data);
    const continuations = await lm.generateBatch(prompts, tokens);
    continuations.forEach((c, i) => seen[i]!.add(c.join(' ')));
  }
  const perSample = seen.map((s) => s.size);
  return { perSample, summary: meanStd(perSample) };
}
