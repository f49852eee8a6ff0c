import { bottomRankSeries, dropTopComponents } from '../core/bottomRank';
import type { MatrixBackend } from '../core/matrixBackend';
import { type RowMatrix, rowMatrix } from '../core/matrix';
import { randomizedSvd, type SingularTriplets } from '../core/randomizedSvd';
import { rankOneSimilarityOfFactors } from '../core/rankOneSimilarity';
import type { EditBundle, EditRecordMeta } from '../edit/editBundle';
import { CancelledError, FormatError } from '../formats/formatError';
import { argmax, type LanguageModel } from '../lm/languageModel';
import type { TextTokenizer } from '../lm/tokenizer';
import { meanStd, type MeanStd } from '../core/meanStd';

/** Paper Sec. 7.3: k = 0..15 (k = 0 is the edited matrix itself, the baseline). */
export const DEFAULT_MAX_K = 15;
/** Top-k triplets are computed to this relative residual (issue 5: 1e-3). */
export const SVD_TOLERANCE = 1e-3;

export interface ReversalHooks {
  progress?: (done: number, total: number, message: string) => void;
  /** Throws to cancel (called between edits and between matrices). */
  checkpoint?: () => void;
}

export interface ReversalSettings {
  maxK: number;
  /** Edits per relation taken from the bundle (paper: 10 x 31 = 310). */
  perRelation: number;
  /** Only edits that took (recorded efficacy), as the paper's k = 0 row (100% editing accuracy) implies. */
  onlySuccessful: boolean;
  /** How many of them get 5-token generations (Tab. 3). */
  generationSamples: number;
  generationTokens: number;
}

export const DEFAULT_REVERSAL: ReversalSettings = { maxK: DEFAULT_MAX_K, perRelation: 10, onlySuccessful: true, generationSamples: 10, generationTokens: 5 };

export interface EditReversal {
  id: number;
  relation: string;
  subject: string;
  promptText: string;
  trueObject: string;
  newObject: string;
  newObjectToken: number;
  /** Next token with the original W, with W' (= k 0), and with W~(r, k) for k = 0..maxK. */
  originalToken: number;
  approxTokens: number[];
  /** max |cos| between rows of dW and of sigma_k u_k v_k^T, k = 1..maxK. */
  rankOneSimilarity: number[];
  singularValues: number[];
}

export interface Generation {
  id: number;
  promptText: string;
  newObject: string;
  k: number;
  original: string;
  edited: string;
  approximated: string;
}

export interface ReversalResult {
  layer: number;
  maxK: number;
  edits: EditReversal[];
  /** Per k = 0..maxK, in percent: agreement with the original output, and the new object's first token. */
  reversal: MeanStd[];
  editing: MeanStd[];
  /** The k with the highest reversal accuracy (the lower k on ties). */
  bestK: number;
  /** Per k = 1..maxK. */
  similarity: MeanStd[];
  generations: Generation[];
  svd: { maxPowerIterations: number; maxResidual: number };
  /** Cancelled after `edits.length` of `requested` edits: the statistics cover those (no generations). */
  partial: boolean;
  requested: number;
}

/** The model the experiments run: a session whose `layer` MLP matrix is swappable, and its tokenizer. */
export interface RunnableModel {
  lm: LanguageModel;
  tokenizer: TextTokenizer;
}

/** W' = W + u lambda^T, rounded to float32 as an edited checkpoint stores it. */
export function applyEdit(w: RowMatrix, u: Float32Array, lambda: Float32Array): RowMatrix {
  if (u.length !== w.rows || lambda.length !== w.cols) {
    throw new FormatError('edit bundle', `an edit's factors are [${u.length}] and [${lambda.length}], the layer is ${w.rows} x ${w.cols}: the bundle belongs to another model`);
  }
  const out = new Float32Array(w.rows * w.cols);
  for (let i = 0; i < w.rows; i++) {
    const ui = u[i] as number;
    for (let j = 0; j < w.cols; j++) out[i * w.cols + j] = (w.data[i * w.cols + j] as number) + ui * (lambda[j] as number);
  }
  return rowMatrix(w.rows, w.cols, out);
}

/**
 * The first token the model would emit for " object" after the prompt (works for word-level and BPE);
 * `before` is the prompt's own encoding.
 */
export function objectFirstToken(tokenizer: TextTokenizer, promptText: string, before: ArrayLike<number>, object: string): number {
  const after = tokenizer.encode(`${promptText} ${object}`);
  const samePrefix = Array.from(before).every((t, i) => after[i] === t);
  const next = after[before.length];
  if (!samePrefix || next === undefined) throw new FormatError('tokenizer', `cannot find the first token of "${object}" after "${promptText}"`);
  return next;
}

/** 10 edits per relation by default, in bundle order, for one layer. */
export function selectEdits(bundle: EditBundle, layer: number, settings: Pick<ReversalSettings, 'perRelation' | 'onlySuccessful'>): EditRecordMeta[] {
  const taken = new Map<string, number>();
  const out: EditRecordMeta[] = [];
  for (const e of bundle.edits) {
    if (e.layer !== layer || !e.main) continue;
    if (settings.onlySuccessful && e.metrics && e.metrics.efficacy === false) continue;
    const n = taken.get(e.relation) ?? 0;
    if (n >= settings.perRelation) continue;
    taken.set(e.relation, n + 1);
    out.push(e);
  }
  return out;
}

/** Top-k singular triplets of `m` on `backend`, to SVD_TOLERANCE (power iterations as needed). */
export async function accurateTopTriplets(backend: MatrixBackend, m: RowMatrix, k: number, checkpoint?: () => void): Promise<SingularTriplets> {
  const loaded = await backend.load(m);
  try {
    return await randomizedSvd(loaded, { k, oversampling: 10, powerIterations: 2, tolerance: SVD_TOLERANCE, seed: 0x5eed, checkpoint });
  } finally {
    loaded.release();
  }
}

/**
 * Paper Sec. 7.2-7.3 (Fig. 7, Tab. 2, Tab. 3) over an edit bundle whose edits are relative to the matrix
 * `original` of the model's swappable layer: for each edit, W' = W + u lambda^T, its top singular triplets,
 * and the next token of the edit prompt with W, W' and every W~(r, k).
 */
export async function runReversal(model: RunnableModel, original: RowMatrix, bundle: EditBundle, edits: readonly EditRecordMeta[], backend: MatrixBackend, settings: ReversalSettings = DEFAULT_REVERSAL, hooks: ReversalHooks = {}): Promise<ReversalResult> {
  const { lm, tokenizer } = model;
  const tick = hooks.checkpoint ?? (() => undefined);
  if (edits.length === 0) throw new FormatError(bundle.file, 'has no edits of this layer to reverse');
  const layer = edits[0]!.layer;
  const maxK = settings.maxK;
  const prompts = edits.map((e) => e.prompt.replace('{}', e.subject));
  const promptIds = prompts.map((p) => Int32Array.from(tokenizer.encode(p)));
  promptIds.forEach((ids, i) => {
    if (ids.length > lm.maxPositions) throw new FormatError(bundle.file, `edit ${edits[i]?.id} ("${prompts[i]}") has ${ids.length} tokens; this model reads at most ${lm.maxPositions}: the bundle belongs to another model`);
  });
  // The original outputs: one swap, every prompt batched.
  await lm.setSwap(original.data);
  const originalTokens = (await lm.nextTokenLogProbs(promptIds)).map((lp) => argmax(lp));
  const results: EditReversal[] = [];
  // Tab. 3's edits, spread over the set; their W' and triplets are kept for the generations at the best k.
  const sampleCount = Math.min(settings.generationSamples, edits.length);
  const sampled = new Set(Array.from({ length: sampleCount }, (_, s) => Math.floor((s * edits.length) / sampleCount)));
  const kept = new Map<number, { edited: RowMatrix; svd: SingularTriplets }>();
  let maxPower = 0;
  let maxResidual = 0;
  let partial = false;
  for (let n = 0; n < edits.length; n++) {
    // Cancel keeps what is done: the tables cover the edits finished so far, marked partial.
    try {
      tick();
    } catch (error) {
      if (!(error instanceof CancelledError) || results.length === 0) throw error;
      partial = true;
      break;
    }
    const e = edits[n]!;
    hooks.progress?.(n, edits.length, `edit ${n + 1} of ${edits.length}: ${prompts[n]} -> ${e.newObject}`);
    const { u, lambda } = await bundle.factors(e.id, original);
    const edited = applyEdit(original, u, lambda);
    let svd: SingularTriplets;
    try {
      svd = await accurateTopTriplets(backend, edited, maxK + 1, tick);
    } catch (error) {
      if (!(error instanceof CancelledError) || results.length === 0) throw error;
      partial = true;
      break;
    }
    maxPower = Math.max(maxPower, svd.powerIterations);
    maxResidual = Math.max(maxResidual, svd.relativeResidual ?? 0);
    if (sampled.has(n)) kept.set(n, { edited, svd });
    const approxTokens: number[] = [];
    for (const { matrix } of bottomRankSeries(edited, svd, maxK)) {
      await lm.setSwap(matrix.data);
      const [lp] = await lm.nextTokenLogProbs([promptIds[n]!]);
      approxTokens.push(argmax(lp as Float32Array));
    }
    results.push({
      id: e.id,
      relation: e.relation,
      subject: e.subject,
      promptText: prompts[n]!,
      trueObject: e.trueObject,
      newObject: e.newObject,
      newObjectToken: objectFirstToken(tokenizer, prompts[n]!, promptIds[n]!, e.newObject),
      originalToken: originalTokens[n]!,
      approxTokens,
      rankOneSimilarity: Array.from(rankOneSimilarityOfFactors(u, lambda, svd, maxK + 1)).slice(0, maxK),
      singularValues: Array.from(svd.values),
    });
  }
  const reversal = Array.from({ length: maxK + 1 }, (_, k) => meanStd(results.map((r) => (r.approxTokens[k] === r.originalToken ? 100 : 0))));
  const editing = Array.from({ length: maxK + 1 }, (_, k) => meanStd(results.map((r) => (r.approxTokens[k] === r.newObjectToken ? 100 : 0))));
  const bestK = reversal.reduce((best, m, k) => (m.mean > (reversal[best] as MeanStd).mean ? k : best), 0);
  const similarity = Array.from({ length: maxK }, (_, t) => meanStd(results.map((r) => r.rankOneSimilarity[t] as number)));
  hooks.progress?.(edits.length, edits.length, 'generations at the best k');
  const generations = partial ? [] : await sampleGenerations(model, original, kept, promptIds, results, bestK, settings.generationTokens, tick).catch((error: unknown) => {
    if (error instanceof CancelledError) return [];
    throw error;
  });
  await lm.setSwap(original.data);
  return { layer, maxK, edits: results, reversal, editing, bestK, similarity, generations, svd: { maxPowerIterations: maxPower, maxResidual }, partial, requested: edits.length };
}

/** Tab. 3: greedy continuations with W, W' and W~(r, k) for the kept edits. */
async function sampleGenerations(
  model: RunnableModel,
  original: RowMatrix,
  kept: ReadonlyMap<number, { edited: RowMatrix; svd: SingularTriplets }>,
  promptIds: readonly Int32Array[],
  results: readonly EditReversal[],
  k: number,
  tokens: number,
  tick: () => void,
): Promise<Generation[]> {
  const { lm, tokenizer } = model;
  const out: Generation[] = [];
  for (const [i, { edited, svd }] of kept) {
    tick();
    const run = async (m: RowMatrix) => {
      await lm.setSwap(m.data);
      return tokenizer.decode(await lm.generate(promptIds[i]!, tokens));
    };
    const r = results[i]!;
    const approximated = await run(k > 0 ? dropTopComponents(edited, svd, k) : edited);
    out.push({ id: r.id, promptText: r.promptText, newObject: r.newObject, k, original: await run(original), edited: await run(edited), approximated });
  }
  return out;
}

/** The reversal table as CSV (k, reversal mean, std, editing mean, std, similarity mean, std). */
export function reversalCsv(r: ReversalResult): string {
  const lines = ['k,reversal_accuracy_mean,reversal_accuracy_std,editing_accuracy_mean,editing_accuracy_std,max_rank_one_similarity_mean,max_rank_one_similarity_std'];
  for (let k = 0; k <= r.maxK; k++) {
    const sim = k > 0 ? r.similarity[k - 1] : undefined;
    lines.push([k, r.reversal[k]!.mean, r.reversal[k]!.std, r.editing[k]!.mean, r.editing[k]!.std, sim?.mean ?? '', sim?.std ?? ''].join(','));
  }
  return `${lines.join('\n')}\n`;
}
