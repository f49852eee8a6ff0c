import { decodeWords, END_OF_TEXT, encodeWords, type WordVocabulary } from './wordTokenizer';

/**
 * What ROME needs of a tokenizer, whichever it is (the forge's word vocabulary, a Hugging Face tokenizer.json):
 * whole sequences as the model reads them, single-token targets, and text back from sampled ids.
 */
export interface RomeTokenizer {
  /** The ids the model reads for `text`, its leading special tokens (GPT-2's <|endoftext|> in the forge) included. */
  encode(text: string): number[];
  /** The id of `word` when it is one token of the vocabulary (a target must be), else undefined. */
  tokenId(word: string): number | undefined;
  /** Text of sampled ids (no special tokens among them). */
  decode(ids: readonly number[]): string;
  /** Ids never sampled into a context template (end of text ends the prefix). */
  readonly special: readonly number[];
}

/** The forge's word-level tokenizer: every sequence starts with <|endoftext|>, words are split on spaces. */
export function wordRomeTokenizer(vocab: WordVocabulary): RomeTokenizer {
  const eot = vocab.ids.get(END_OF_TEXT) as number;
  return {
    encode: (text) => [eot, ...encodeWords(vocab, text)],
    tokenId: (word) => vocab.ids.get(word),
    decode: (ids) => decodeWords(vocab, ids),
    special: [eot],
  };
}

/** A prompt's ids and the index of the subject's last token. */
export interface SubjectPrompt {
  ids: Int32Array;
  subjectLast: number;
}

/**
 * `template` with `subject` in place of "{}", and where the subject ends: as kmeng01/rome finds it, by
 * tokenizing the text up to the end of the subject (which must be a prefix of the whole prompt's tokens).
 */
export function subjectPrompt(tokenizer: RomeTokenizer, template: string, subject: string): SubjectPrompt {
  const at = template.indexOf('{}');
  if (at < 0) throw new Error(`prompt "${template}" has no {} where the subject goes`);
  const upToSubject = tokenizer.encode(template.slice(0, at) + subject);
  const ids = tokenizer.encode(template.slice(0, at) + subject + template.slice(at + 2));
  if (upToSubject.length > ids.length || upToSubject.some((id, i) => ids[i] !== id)) {
    throw new Error(`the tokenizer splits "${subject}" differently inside the prompt "${template}": ROME cannot find where the subject ends`);
  }
  return { ids: Int32Array.from(ids), subjectLast: upToSubject.length - 1 };
}
