import { Tokenizer } from '@huggingface/tokenizers';
import { FormatError } from '../formats/formatError';
import { parseJsonObject } from '../formats/modelConfig';

/** Text <-> token ids through a Hugging Face tokenizer.json (and tokenizer_config.json when given). */
export interface TextTokenizer {
  /** Ids as the model expects them, special tokens (BOS) included as the tokenizer's post-processor adds them. */
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  tokenText(id: number): string;
}

export function loadTokenizer(tokenizerJson: { name: string; bytes: Uint8Array }, tokenizerConfig?: { name: string; bytes: Uint8Array }): TextTokenizer {
  const json = parseJsonObject(tokenizerJson.name, tokenizerJson.bytes);
  const config = tokenizerConfig ? parseJsonObject(tokenizerConfig.name, tokenizerConfig.bytes) : {};
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json as never, config as never);
  } catch (cause) {
    throw new FormatError(tokenizerJson.name, `is not a tokenizer this app can read (${cause instanceof Error ? cause.message : String(cause)})`);
  }
  return {
    encode: (text) => tok.encode(text).ids,
    decode: (ids) => (ids.length ? tok.decode([...ids], { skip_special_tokens: false }) : ''),
    tokenText: (id) => tok.id_to_token(id) ?? `<${id}>`,
  };
}
