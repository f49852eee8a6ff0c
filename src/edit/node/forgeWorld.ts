import { englishFiller } from '../englishFiller';
import { buildKnowledgeBase, type KnowledgeBase } from '../knowledgeBase';
import { brownSentences } from './brownCorpus';
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
  let kb = buildKnowledgeBase({ seed: forge.kbSeed, subjectsPerRelation: forge.subjectsPerRelation, fillerPerFact: forge.fillerPerFact });
  let englishWords: string[] = [];
  if (forge.english) {
    const english = englishFiller(brownSentences(), forge.english);
    kb = { ...kb, filler: english.training, neutral: english.neutral };
    englishWords = english.words;
  }
  const texts = trainingTexts(kb);
  // Held-out templates never appear in training text, but their words must be in the vocabulary.
  const templateWords = kb.relations.flatMap((r) => r.templates.map((t) => t.replace('{}', '')));
  // The English filler's whole word list, so held-out neutral text encodes without <unk> for kept words.
  const vocab = buildVocabulary([...texts, ...templateWords, ...kb.relations.flatMap((r) => r.objects), ...englishWords]);
  const sequences = encodeTexts(vocab, texts);
  const longest = Math.max(...sequences.map((s) => s.length));
  if (longest > forge.model.n_positions) throw new Error(`a training sequence has ${longest} tokens, over n_positions ${forge.model.n_positions}`);
  return { kb, vocab, config: { ...forge.model, vocab_size: vocab.tokens.length }, sequences };
}
