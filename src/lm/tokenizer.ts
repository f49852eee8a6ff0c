import { Tokenizer } from '@huggingface/tokenizers';
import { FormatError } from '../formats/formatError';
import { parseJsonObject } from '../formats/modelConfig';

/** Text <-> token ids through a Hugging Face tokenizer.json (and tokenizer_config.json when given). */
export interface TextTokenizer {
  /** Ids as the model expects them, special tokens (BOS) included as the tokenizer's post-processor adds them. */
  encode(text: string): number[];
  /** Ids of `text` alone, no special tokens added. */
  encodePlain(text: string): number[];
  decode(ids: readonly number[]): string;
  /** Text of `ids` without their special tokens. */
  decodeText(ids: readonly number[]): string;
  /** Ids of the special tokens (added tokens marked special). */
  readonly specialIds: readonly number[];
  tokenText(id: number): string;
  /** One more than the largest id the tokenizer can produce (vocabulary and added tokens). */
  readonly idLimit: number;
  /** The words of `text` the tokenizer does not know (they become its unknown token); none for byte-level BPE. */
  unknownWords(text: string): string[];
}

const MODEL_TYPES = ['BPE', 'WordLevel', 'WordPiece', 'Unigram'];

/**
 * Checks the parts of tokenizer.json the library relies on, so a damaged file gets a message naming the file
 * and the field instead of a JavaScript error from inside the library. Returns the id limit.
 */
export function validateTokenizerJson(file: string, json: Record<string, unknown>): number {
  const fail = (problem: string) => new FormatError(file, problem);
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const model = json['model'];
  if (!isObject(model)) throw fail('has no "model" object: not a Hugging Face tokenizer.json');
  const type = model['type'];
  if (typeof type !== 'string' || !MODEL_TYPES.includes(type)) throw fail(`"model.type" is ${JSON.stringify(type)}; supported: ${MODEL_TYPES.join(', ')}`);
  const ids = new Set<number>();
  const addId = (id: unknown, what: string) => {
    if (!Number.isSafeInteger(id) || (id as number) < 0) throw fail(`${what} has id ${JSON.stringify(id)}, not a non-negative whole number`);
    return id as number;
  };
  const vocab = model['vocab'];
  if (type === 'Unigram') {
    if (!Array.isArray(vocab) || vocab.length === 0) throw fail('"model.vocab" must be a non-empty list of [token, score] pairs');
    vocab.forEach((entry, i) => {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || typeof entry[1] !== 'number') throw fail(`"model.vocab" entry ${i} is not a [token, score] pair`);
      ids.add(i);
    });
  } else {
    if (!isObject(vocab) || Object.keys(vocab).length === 0) throw fail('"model.vocab" must be a non-empty object of token: id');
    for (const [token, id] of Object.entries(vocab)) {
      const n = addId(id, `token ${JSON.stringify(token)} in "model.vocab"`);
      if (ids.has(n)) throw fail(`id ${n} is given to two tokens in "model.vocab" (one is ${JSON.stringify(token)})`);
      ids.add(n);
    }
    const unk = model['unk_token'];
    if (type !== 'BPE' && unk !== undefined && unk !== null && (typeof unk !== 'string' || !(unk in vocab))) throw fail(`"model.unk_token" ${JSON.stringify(unk)} is not in the vocabulary`);
    if (type === 'BPE' && !Array.isArray(model['merges'])) throw fail('"model.merges" must be a list (BPE)');
  }
  const added = json['added_tokens'] ?? [];
  if (!Array.isArray(added)) throw fail('"added_tokens" must be a list');
  added.forEach((t, i) => {
    if (!isObject(t) || typeof t['content'] !== 'string') throw fail(`"added_tokens" entry ${i} has no "content" string`);
    ids.add(addId(t['id'], `added token ${JSON.stringify(t['content'])}`));
  });
  for (const part of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder']) {
    const v = json[part];
    if (v !== undefined && v !== null && !isObject(v)) throw fail(`"${part}" must be an object or null`);
    if (isObject(v) && typeof v['type'] !== 'string') throw fail(`"${part}" has no "type"`);
  }
  let max = -1;
  for (const id of ids) if (id > max) max = id;
  return max + 1;
}

export function loadTokenizer(tokenizerJson: { name: string; bytes: Uint8Array }, tokenizerConfig?: { name: string; bytes: Uint8Array }): TextTokenizer {
  const json = parseJsonObject(tokenizerJson.name, tokenizerJson.bytes);
  const idLimit = validateTokenizerJson(tokenizerJson.name, json);
  const config = tokenizerConfig ? parseJsonObject(tokenizerConfig.name, tokenizerConfig.bytes) : {};
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json as never, config as never);
  } catch (cause) {
    throw new FormatError(tokenizerJson.name, `is not a tokenizer this app can read (${cause instanceof Error ? cause.message : String(cause)})`);
  }
  const guard = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (cause) {
      throw new FormatError(tokenizerJson.name, `failed to ${what} (${cause instanceof Error ? cause.message : String(cause)})`);
    }
  };
  const specialIds = (json['added_tokens'] as Record<string, unknown>[] | undefined ?? []).filter((t) => t['special'] === true).map((t) => t['id'] as number);
  const unk = (json['model'] as Record<string, unknown>)['unk_token'];
  const unkId = typeof unk === 'string' ? tok.token_to_id(unk) : undefined;
  return {
    idLimit,
    unknownWords: (text) => (unkId === undefined ? [] : text.split(/\s+/).filter((w) => w && guard('encode text', () => tok.encode(w).ids).includes(unkId))),
    encode: (text) => guard('encode text', () => tok.encode(text).ids),
    encodePlain: (text) => guard('encode text', () => tok.encode(text, { add_special_tokens: false }).ids),
    decode: (ids) => (ids.length ? guard('decode ids', () => tok.decode([...ids], { skip_special_tokens: false })) : ''),
    decodeText: (ids) => (ids.length ? guard('decode ids', () => tok.decode([...ids], { skip_special_tokens: true })) : ''),
    specialIds,
    tokenText: (id) => tok.id_to_token(id) ?? `<${id}>`,
  };
}
