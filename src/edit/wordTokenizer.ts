/**
 * The forge's tokenizer: whitespace-separated words, saved as a Hugging Face WordLevel `tokenizer.json`
 * so the app reads it through the same library it uses for real models' tokenizers.
 */
export const END_OF_TEXT = '<|endoftext|>';
export const UNKNOWN = '<unk>';

export interface WordVocabulary {
  tokens: string[];
  ids: Map<string, number>;
}

/** Vocabulary of every word in the texts, in a deterministic order: specials first, then sorted words. */
export function buildVocabulary(texts: Iterable<string>): WordVocabulary {
  const words = new Set<string>();
  for (const text of texts) for (const w of text.split(/\s+/)) if (w) words.add(w);
  words.delete(END_OF_TEXT);
  words.delete(UNKNOWN);
  const tokens = [END_OF_TEXT, UNKNOWN, ...[...words].sort()];
  return { tokens, ids: new Map(tokens.map((t, i) => [t, i])) };
}

export function encodeWords(vocab: WordVocabulary, text: string): number[] {
  const unk = vocab.ids.get(UNKNOWN) as number;
  return text.split(/\s+/).filter((w) => w).map((w) => vocab.ids.get(w) ?? unk);
}

export function decodeWords(vocab: WordVocabulary, ids: readonly number[]): string {
  return ids.map((i) => vocab.tokens[i] ?? UNKNOWN).join(' ');
}

/** `tokenizer.json` (WordLevel model, WhitespaceSplit pre-tokenizer) and `tokenizer_config.json`. */
export function tokenizerFiles(vocab: WordVocabulary, maxLength: number): { tokenizer: object; config: object } {
  const special = (content: string, id: number) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    tokenizer: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [special(END_OF_TEXT, 0), special(UNKNOWN, 1)],
      normalizer: null,
      pre_tokenizer: { type: 'WhitespaceSplit' },
      // Prompts start with <|endoftext|>, as every training sequence did: the tokenizer adds it itself.
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: END_OF_TEXT, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [{ SpecialToken: { id: END_OF_TEXT, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: { [END_OF_TEXT]: { id: END_OF_TEXT, ids: [0], tokens: [END_OF_TEXT] } },
      },
      decoder: null,
      model: { type: 'WordLevel', vocab: Object.fromEntries(vocab.tokens.map((t, i) => [t, i])), unk_token: UNKNOWN },
    },
    config: {
      tokenizer_class: 'PreTrainedTokenizerFast',
      bos_token: END_OF_TEXT,
      eos_token: END_OF_TEXT,
      unk_token: UNKNOWN,
      model_max_length: maxLength,
      // Words are joined by single spaces; the default clean-up would glue " ." to the word before it.
      clean_up_tokenization_spaces: false,
    },
  };
}
