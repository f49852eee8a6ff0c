import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { corpusHash } from '../src/edit/corpusHash';
import { FULL_FORGE } from '../src/edit/forgeConfig';
import { buildKnowledgeBase, relationById, trainingSentences } from '../src/edit/knowledgeBase';
import { generateNames } from '../src/edit/names';
import { RELATIONS } from '../src/edit/relations';
import { trainingTexts } from '../src/edit/trainingData';
import { buildVocabulary, encodeWords, tokenizerFiles } from '../src/edit/wordTokenizer';

const kb = buildKnowledgeBase({ seed: FULL_FORGE.kbSeed, subjectsPerRelation: FULL_FORGE.subjectsPerRelation, fillerPerFact: FULL_FORGE.fillerPerFact });

describe('the synthetic knowledge base (demo size)', () => {
  it('has >= 31 relations, each with >= 3 templates, a closed object set and >= 100 subjects', () => {
    expect(RELATIONS.length).toBeGreaterThanOrEqual(31);
    for (const r of RELATIONS) {
      expect(r.templates.length, r.id).toBeGreaterThanOrEqual(3);
      for (const t of r.templates) expect(t.split('{}').length, t).toBe(2);
      expect(new Set(r.objects).size, r.id).toBe(r.objects.length);
      expect(r.objects.length, r.id).toBeGreaterThanOrEqual(2);
      const facts = kb.facts.filter((f) => f.relation === r.id);
      expect(new Set(facts.map((f) => f.subject)).size, r.id).toBeGreaterThanOrEqual(100);
      for (const f of facts) expect(r.objects).toContain(f.object);
    }
  });

  it('names span >= 2 tokens, are distinct, and no single token identifies a subject', () => {
    const subjects = [...new Set(kb.facts.map((f) => f.subject))];
    expect(subjects.length).toBe(new Set(subjects).size);
    const uses = new Map<string, number>();
    for (const s of subjects) {
      const words = s.split(' ');
      expect(words.length).toBeGreaterThanOrEqual(2);
      for (const w of new Set(words)) uses.set(w, (uses.get(w) ?? 0) + 1);
    }
    // Every name token is shared by several subjects: only the whole name (its last token in context) identifies.
    expect(Math.min(...uses.values())).toBeGreaterThanOrEqual(3);
    const lastTwo = new Set(subjects.map((s) => s.split(' ').slice(-2).join(' ')));
    expect(lastTwo.size).toBe(subjects.length);
  });

  it('is deterministic from the seed, and another seed gives another world', () => {
    const again = buildKnowledgeBase({ seed: FULL_FORGE.kbSeed, subjectsPerRelation: 100 });
    expect(again.facts).toEqual(kb.facts.map((f) => ({ ...f })));
    const other = buildKnowledgeBase({ seed: FULL_FORGE.kbSeed + 1, subjectsPerRelation: 100 });
    expect(other.facts.map((f) => f.subject)).not.toEqual(kb.facts.map((f) => f.subject));
    expect(generateNames(50, 3)).toEqual(generateNames(50, 3));
  });

  it('trains each fact with all templates but its held-out one; every template is trained and held out across subjects', () => {
    for (const r of RELATIONS) {
      const facts = kb.facts.filter((f) => f.relation === r.id);
      const heldOut = new Set(facts.map((f) => f.heldOutTemplate));
      expect(heldOut.size, r.id).toBe(r.templates.length);
    }
    for (const f of kb.facts.slice(0, 300)) {
      const sentences = trainingSentences(f);
      const templates = relationById(f.relation).templates;
      expect(sentences.length).toBe(templates.length - 1);
      const heldOutPrompt = templates[f.heldOutTemplate]!.replace('{}', f.subject);
      expect(sentences.some((s) => s.startsWith(`${heldOutPrompt} `))).toBe(false);
      expect(sentences.every((s) => s.endsWith(` ${f.object} .`))).toBe(true);
    }
  });

  it('has neutral filler that names no subject', () => {
    expect(kb.filler.length).toBeGreaterThan(1000);
    const nameWords = new Set(kb.facts.flatMap((f) => f.subject.split(' ')));
    for (const s of kb.filler) for (const w of s.split(' ')) expect(nameWords.has(w), w).toBe(false);
  });
});

describe('the forge tokenizer', () => {
  it('round-trips through @huggingface/tokenizers, the library the app uses for real models', () => {
    const texts = trainingTexts(kb).slice(0, 2000);
    const vocab = buildVocabulary(texts);
    const files = tokenizerFiles(vocab, 32);
    const tok = new Tokenizer(files.tokenizer as never, files.config as never);
    for (const t of texts.slice(0, 200)) {
      const ours = encodeWords(vocab, t);
      expect(tok.encode(t, { add_special_tokens: false }).ids).toEqual(ours);
      expect(tok.decode(ours)).toBe(t);
      // With special tokens (the default), <|endoftext|> comes first, as in training.
      expect(tok.encode(t).ids).toEqual([vocab.ids.get('<|endoftext|>'), ...ours]);
    }
  });

  it('corpus hash changes with any token', () => {
    const seqs = [Int32Array.from([0, 5, 7]), Int32Array.from([0, 9])];
    const h = corpusHash(['a', 'b'], seqs);
    expect(corpusHash(['a', 'b'], [Int32Array.from([0, 5, 7]), Int32Array.from([0, 9])])).toBe(h);
    expect(corpusHash(['a', 'c'], seqs)).not.toBe(h);
    expect(corpusHash(['a', 'b'], [Int32Array.from([0, 5]), Int32Array.from([7, 0, 9])])).not.toBe(h);
  });
});
