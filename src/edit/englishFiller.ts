import { SeededRandom } from '../core/random';
import { UNKNOWN } from './wordTokenizer';

export interface EnglishFillerOptions {
  /** Most frequent words kept (case as written); the rest become <unk>. */
  vocabulary: number;
  /** Sentences with more than this share of <unk> words are dropped. */
  maxUnknownShare: number;
  minWords: number;
  maxWords: number;
  /** Sentences kept for training (taken after a seeded shuffle). */
  sentences: number;
  /** Further sentences kept apart as neutral text (ROME's covariance corpus, the unique-predictions test). */
  neutral: number;
  seed: number;
  /** Words kept whatever their frequency (ROME's prefix words, so the sampled context templates can start with them). */
  keepWords?: readonly string[];
}

/** A word of the text: letters (apostrophes and hyphens inside), or one punctuation mark. */
const WORD = /^(?:[A-Za-z][A-Za-z'-]*|[,.;:?!])$/;

/**
 * Real English sentences for the forge's filler: the `vocabulary` most frequent words (ties by spelling, so
 * the choice is deterministic), sentences of [minWords, maxWords] words with at most `maxUnknownShare` of
 * others (written <unk>), shuffled by `seed`, split into training text and held-out neutral text.
 */
export function englishFiller(corpus: readonly (readonly string[])[], o: EnglishFillerOptions): { training: string[]; neutral: string[]; words: string[] } {
  const counts = new Map<string, number>();
  for (const s of corpus) for (const w of s) if (WORD.test(w)) counts.set(w, (counts.get(w) ?? 0) + 1);
  const words = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, o.vocabulary).map(([w]) => w);
  for (const w of o.keepWords ?? []) if (!words.includes(w)) words.push(w);
  const known = new Set(words);
  const kept: string[] = [];
  for (const s of corpus) {
    if (s.length < o.minWords || s.length > o.maxWords) continue;
    const unknown = s.filter((w) => !known.has(w)).length;
    if (unknown > o.maxUnknownShare * s.length) continue;
    kept.push(s.map((w) => (known.has(w) ? w : UNKNOWN)).join(' '));
  }
  const shuffled = new SeededRandom(o.seed).shuffle(kept);
  if (shuffled.length < o.sentences + o.neutral) throw new Error(`only ${shuffled.length} English sentences qualify; ${o.sentences} + ${o.neutral} asked`);
  return { training: shuffled.slice(0, o.sentences), neutral: shuffled.slice(o.sentences, o.sentences + o.neutral), words };
}
