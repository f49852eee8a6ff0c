import type { RomeTokenizer } from '../edit/romeTokenizer';
import type { TextTokenizer } from '../lm/tokenizer';

/**
 * ROME over a model's own tokenizer.json. A target is one token, with the leading space it has after a prompt
 * where the tokenizer marks word starts (GPT-2's BPE: " Paris"; kmeng01/rome prepends that space too), else bare.
 */
export function romeTokenizerFrom(tokenizer: TextTokenizer): RomeTokenizer {
  return {
    encode: (text) => tokenizer.encode(text),
    tokenId: (word) => {
      if (!word.trim() || tokenizer.unknownWords(word).length > 0) return undefined;
      for (const text of [` ${word}`, word]) {
        const ids = tokenizer.encodePlain(text);
        if (ids.length === 1) return ids[0];
      }
      return undefined;
    },
    decode: (ids) => tokenizer.decodeText(ids),
    special: tokenizer.specialIds,
  };
}
