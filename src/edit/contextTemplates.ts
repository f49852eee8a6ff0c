import { SeededRandom } from '../core/random';
import type { EditableModel } from './editableModel';
import type { RomeTokenizer } from './romeTokenizer';

/** Seed of ROME's sampled context templates (fixed: every worker, the page and the CLI build the same ones). */
export const CONTEXT_TEMPLATE_SEED = 17;

/** ROME's prefixes: 5 starting words, n/5 samples each, per (length, count) pair. */
export const ROME_PREFIX_WORDS = ['The', 'Therefore', 'Because', 'I', 'You'];
export const ROME_TEMPLATE_LENGTHS: readonly [number, number][] = [
  [5, 10],
  [10, 10],
];

/**
 * ROME's context templates: "{}" plus, for each sampled text x, "x . {}". Texts are sampled from the model
 * itself (top-5 sampling, seeded), `length` words including the starting word (as kmeng01/rome does with
 * max_out_len in tokens).
 */
export function contextTemplates(model: EditableModel, tokenizer: RomeTokenizer, seed: number, lengths = ROME_TEMPLATE_LENGTHS): string[] {
  const rng = new SeededRandom(seed);
  const templates = ['{}'];
  // ROME's five starting words, those the vocabulary has as one token (a word-level vocabulary may lack one).
  const starts = ROME_PREFIX_WORDS.filter((w) => tokenizer.tokenId(w) !== undefined).map((w) => tokenizer.encode(w));
  if (starts.length === 0) throw new Error(`none of ROME's prefix words (${ROME_PREFIX_WORDS.join(', ')}) is in the vocabulary`);
  const banned = new Set(tokenizer.special);
  for (const [length, count] of lengths) {
    for (let i = 0; i < count; i++) {
      const start = starts[i % starts.length] as number[];
      // The start's own leading special tokens are not part of the text.
      const leading = start.findIndex((id) => !banned.has(id));
      const ids = [...start];
      while (ids.length - leading < length) {
        const logits = model.forward(null, Int32Array.from(ids), 1, ids.length, { logitRows: Int32Array.from([ids.length - 1]) }).data;
        ids.push(sampleTopK(logits, 5, rng, banned));
      }
      templates.push(`${tokenizer.decode(ids.slice(leading))} . {}`);
    }
  }
  return templates;
}

/** Samples among the k most likely tokens (never a `banned` one: the end-of-text token would end the prefix). */
function sampleTopK(logits: Float32Array, k: number, rng: SeededRandom, banned: ReadonlySet<number>): number {
  const order = Array.from(logits.keys()).filter((i) => !banned.has(i)).sort((a, b) => (logits[b] as number) - (logits[a] as number)).slice(0, k);
  const max = logits[order[0] as number] as number;
  const weights = order.map((i) => Math.exp((logits[i] as number) - max));
  let r = rng.next() * weights.reduce((a, b) => a + b, 0);
  for (let j = 0; j < order.length; j++) {
    r -= weights[j] as number;
    if (r <= 0) return order[j] as number;
  }
  return order[order.length - 1] as number;
}

/** Parses "5x10,10x10" (length x count, ROME's context_template_length_params) into pairs. */
export function parseTemplateLengths(text: string): [number, number][] {
  const pairs = text.split(',').map((pair) => {
    const [length, count] = /^\s*\d+x\d+\s*$/.test(pair) ? pair.split('x').map(Number) : [NaN, NaN];
    if (!Number.isInteger(length) || !Number.isInteger(count) || (length as number) < 1 || (length as number) > 50 || (count as number) < 0 || (count as number) > 50) {
      throw new Error(`bad template lengths "${text}" (expected e.g. 5x10,10x10: length 1-50 x count 0-50)`);
    }
    return [length as number, count as number] as [number, number];
  });
  if (pairs.length > 5) throw new Error(`bad template lengths "${text}": at most 5 length x count pairs`);
  return pairs;
}
