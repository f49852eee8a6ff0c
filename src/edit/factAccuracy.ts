import type { EditableModel } from './editableModel';
import { type Fact, type KnowledgeBase, prompt, relationById } from './knowledgeBase';
import { nextTokensOf } from './predict';
import { END_OF_TEXT, encodeWords, type WordVocabulary } from './wordTokenizer';

export interface AccuracyReport {
  /** Over every (fact, training template) pair. */
  train: number;
  /** Over every fact's held-out template. */
  heldOut: number;
  perRelation: Record<string, { train: number; heldOut: number }>;
}

/** Prompt token ids: "<|endoftext|> template-with-subject". */
export function promptIds(vocab: WordVocabulary, text: string): Int32Array {
  return Int32Array.from([vocab.ids.get(END_OF_TEXT) as number, ...encodeWords(vocab, text)]);
}

/** Top-1 accuracy on the object (one token) for training and held-out templates, per relation. */
export function factAccuracy(model: EditableModel, vocab: WordVocabulary, kb: KnowledgeBase, facts: readonly Fact[] = kb.facts): AccuracyReport {
  const prompts: Int32Array[] = [];
  const meta: { relation: string; heldOut: boolean; object: number }[] = [];
  for (const f of facts) {
    const relation = relationById(f.relation);
    relation.templates.forEach((t, i) => {
      prompts.push(promptIds(vocab, prompt(t, f.subject)));
      meta.push({ relation: f.relation, heldOut: i === f.heldOutTemplate, object: vocab.ids.get(f.object) as number });
    });
  }
  const predicted = nextTokensOf(model, prompts);
  const tally = new Map<string, { train: [number, number]; heldOut: [number, number] }>();
  const totals = { train: [0, 0], heldOut: [0, 0] };
  meta.forEach((m, i) => {
    const entry = tally.get(m.relation) ?? { train: [0, 0], heldOut: [0, 0] };
    const key = m.heldOut ? 'heldOut' : 'train';
    const hit = predicted[i] === m.object ? 1 : 0;
    entry[key][0] += hit;
    entry[key][1] += 1;
    totals[key][0]! += hit;
    totals[key][1]! += 1;
    tally.set(m.relation, entry);
  });
  const perRelation: AccuracyReport['perRelation'] = {};
  for (const [r, e] of tally) perRelation[r] = { train: e.train[0] / Math.max(1, e.train[1]), heldOut: e.heldOut[0] / Math.max(1, e.heldOut[1]) };
  return { train: totals.train[0]! / Math.max(1, totals.train[1]!), heldOut: totals.heldOut[0]! / Math.max(1, totals.heldOut[1]!), perRelation };
}
