import { SeededRandom } from '../core/random';
import { type Gpt2Config, gpt2Forward, type Gpt2Params } from './gpt2Model';
import { END_OF_TEXT, type WordVocabulary } from './wordTokenizer';

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
export function contextTemplates(c: Gpt2Config, params: Gpt2Params, vocab: WordVocabulary, seed: number, lengths = ROME_TEMPLATE_LENGTHS): string[] {
  const rng = new SeededRandom(seed);
  const eot = vocab.ids.get(END_OF_TEXT) as number;
  const templates = ['{}'];
  // ROME's five starting words, those the vocabulary has (a word-level vocabulary may lack one).
  const starts = ROME_PREFIX_WORDS.map((w) => vocab.ids.get(w)).filter((id): id is number => id !== undefined);
  if (starts.length === 0) throw new Error(`none of ROME's prefix words (${ROME_PREFIX_WORDS.join(', ')}) is in the vocabulary`);
  for (const [length, count] of lengths) {
    for (let i = 0; i < count; i++) {
      const start = starts[i % starts.length] as number;
      const ids = [eot, start];
      while (ids.length - 1 < length) {
        const logits = gpt2Forward(null, c, params, Int32Array.from(ids), 1, ids.length, { logitRows: Int32Array.from([ids.length - 1]) }).data;
        ids.push(sampleTopK(logits, 5, rng, eot));
      }
      templates.push(`${ids.slice(1).map((t) => vocab.tokens[t]).join(' ')} . {}`);
    }
  }
  return templates;
}

/** Samples among the k most likely tokens (never `banned`: the end-of-text token would end the prefix). */
function sampleTopK(logits: Float32Array, k: number, rng: SeededRandom, banned: number): number {
  const order = Array.from(logits.keys()).filter((i) => i !== banned).sort((a, b) => (logits[b] as number) - (logits[a] as number)).slice(0, k);
  const max = logits[order[0] as number] as number;
  const weights = order.map((i) => Math.exp((logits[i] as number) - max));
  let r = rng.next() * weights.reduce((a, b) => a + b, 0);
  for (let j = 0; j < order.length; j++) {
    r -= weights[j] as number;
    if (r <= 0) return order[j] as number;
  }
  return order[order.length - 1] as number;
}
