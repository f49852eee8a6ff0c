import { buildKnowledgeBase, type KnowledgeBase } from '../knowledgeBase';
import type { ForgeConfig } from '../forgeConfig';
import type { Gpt2Config } from '../gpt2Model';
import { encodeTexts, trainingTexts } from '../trainingData';
import { buildVocabulary, type WordVocabulary } from '../wordTokenizer';

/** The knowledge base, vocabulary and model configuration a forge configuration implies. */
export interface ForgeWorld {
  kb: KnowledgeBase;
  vocab: WordVocabulary;
  config: Gpt2Config;
  sequences: Int32Array[];
}

export function forgeWorld(forge: ForgeConfig): ForgeWorld {
  const kb = buildKnowledgeBase({ seed: forge.kbSeed, subjectsPerRelation: forge.subjectsPerRelation, fillerPerFact: forge.fillerPerFact });
  const texts = trainingTexts(kb);
  // Held-out templates never appear in training text, but their words must be in the vocabulary.
  const templateWords = kb.relations.flatMap((r) => r.templates.map((t) => t.replace('{}', '')));
  const vocab = buildVocabulary([...texts, ...templateWords, ...kb.relations.flatMap((r) => r.objects)]);
  const sequences = encodeTexts(vocab, texts);
  const longest = Math.max(...sequences.map((s) => s.length));
  if (longest > forge.model.n_positions) throw new Error(`a training sequence has ${longest} tokens, over n_positions ${forge.model.n_positions}`);
  return { kb, vocab, config: { ...forge.model, vocab_size: vocab.tokens.length }, sequences };
}
