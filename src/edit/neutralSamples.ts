import type { KnowledgeBase } from './knowledgeBase';

/**
 * Neutral text for the paper's unique-predictions test (Sec. 7.4 uses wikitext-103 samples of at least 50
 * characters): the first `count` filler sentences of at least `minChars` characters, which mention no
 * subject and state no fact.
 */
export function neutralSamples(kb: KnowledgeBase, count = 100, minChars = 50): string[] {
  return (kb.neutral ?? kb.filler).filter((s) => s.length >= minChars).slice(0, count);
}
