import { SeededRandom } from '../core/random';
import { type KnowledgeBase, trainingSentences } from './knowledgeBase';
import { END_OF_TEXT, encodeWords, type WordVocabulary } from './wordTokenizer';

/** A batch of equally long sequences (no padding): `ids` is [rows x seq], targets the next tokens. */
export interface TokenBatch {
  rows: number;
  seq: number;
  ids: Int32Array;
  targets: Int32Array;
  /** Dropout for this batch's forward pass: probability and the seed of its masks (set by the trainer). */
  dropout?: { p: number; seed: number };
}

/** Every training text of the knowledge base: facts (minus held-out templates), kind sentences, filler. */
export function trainingTexts(kb: KnowledgeBase): string[] {
  return [...kb.facts.flatMap(trainingSentences), ...kb.kindSentences, ...kb.filler];
}

/** Token sequences "<|endoftext|> words ..." ; each starts at position 0, as prompts do at inference. */
export function encodeTexts(vocab: WordVocabulary, texts: readonly string[]): Int32Array[] {
  const eot = vocab.ids.get(END_OF_TEXT) as number;
  return texts.map((t) => Int32Array.from([eot, ...encodeWords(vocab, t)]));
}

/**
 * One epoch's batches, shuffled by the epoch's seed. Without `packLength`: sequences grouped by length (no
 * padding), one per row. With it: the shuffled sequences are concatenated (each starts with <|endoftext|>, as
 * GPT-2's documents do) and cut into rows of `packLength` tokens at an epoch-dependent phase, so a sentence
 * sits at any position after any other text. Measured: one sentence per row, always at position 0, let the
 * last position read the subject's tokens directly at layer 0 by their position, and ROME, which rewrites
 * the subject's representation, reached ~50% efficacy.
 */
export function epochBatches(sequences: readonly Int32Array[], tokensPerBatch: number, seed: number, epoch: number, packLength?: number): TokenBatch[] {
  const rng = new SeededRandom(seed * 1000003 + epoch);
  if (packLength) return packedBatches(rng.shuffle([...sequences]), tokensPerBatch, packLength, rng);
  const byLength = new Map<number, Int32Array[]>();
  for (const s of rng.shuffle([...sequences])) {
    const list = byLength.get(s.length) ?? [];
    list.push(s);
    byLength.set(s.length, list);
  }
  const batches: TokenBatch[] = [];
  for (const [length, list] of [...byLength.entries()].sort((a, b) => a[0] - b[0])) {
    const seq = length - 1;
    if (seq < 1) continue;
    const perBatch = Math.max(1, Math.round(tokensPerBatch / seq));
    for (let i = 0; i < list.length; i += perBatch) {
      const part = list.slice(i, i + perBatch);
      const ids = new Int32Array(part.length * seq);
      const targets = new Int32Array(part.length * seq);
      part.forEach((s, r) => {
        ids.set(s.subarray(0, seq), r * seq);
        targets.set(s.subarray(1), r * seq);
      });
      batches.push({ rows: part.length, seq, ids, targets });
    }
  }
  return rng.shuffle(batches);
}

function packedBatches(shuffled: readonly Int32Array[], tokensPerBatch: number, seq: number, rng: SeededRandom): TokenBatch[] {
  const total = shuffled.reduce((a, s) => a + s.length, 0);
  const stream = new Int32Array(total);
  let at = 0;
  for (const s of shuffled) {
    stream.set(s, at);
    at += s.length;
  }
  const phase = rng.nextInt(seq);
  const rowsTotal = Math.floor((total - 1 - phase) / seq);
  const perBatch = Math.max(1, Math.round(tokensPerBatch / seq));
  const batches: TokenBatch[] = [];
  for (let r0 = 0; r0 < rowsTotal; r0 += perBatch) {
    const rows = Math.min(perBatch, rowsTotal - r0);
    const ids = new Int32Array(rows * seq);
    const targets = new Int32Array(rows * seq);
    for (let r = 0; r < rows; r++) {
      const start = phase + (r0 + r) * seq;
      ids.set(stream.subarray(start, start + seq), r * seq);
      targets.set(stream.subarray(start + 1, start + seq + 1), r * seq);
    }
    batches.push({ rows, seq, ids, targets });
  }
  return batches;
}

/** Splits a batch's rows into two parts (data parallelism over two threads). */
export function splitBatch(b: TokenBatch): [TokenBatch, TokenBatch | null] {
  if (b.rows < 2) return [b, null];
  const first = Math.ceil(b.rows / 2);
  const cut = first * b.seq;
  return [
    { rows: first, seq: b.seq, ids: b.ids.subarray(0, cut), targets: b.targets.subarray(0, cut) },
    { rows: b.rows - first, seq: b.seq, ids: b.ids.subarray(cut), targets: b.targets.subarray(cut) },
  ];
}
