import type { ByteSource } from './byteSource';
import { FormatError } from './formatError';

/** The parts of a Hugging Face config.json the app uses; the rest is kept raw. */
export interface ModelConfig {
  readonly modelType: string | null;
  readonly layerCount: number | null;
  /** The key that gave layerCount (n_layer, num_hidden_layers, num_layers). */
  readonly layerCountKey: string | null;
  readonly raw: Readonly<Record<string, unknown>>;
}

const MAX_CONFIG_BYTES = 10_000_000;

export async function readModelConfig(source: ByteSource): Promise<ModelConfig> {
  if (source.size > MAX_CONFIG_BYTES) throw new FormatError(source.name, `config is ${source.size} bytes, over the ${MAX_CONFIG_BYTES}-byte limit`);
  const raw = parseJsonObject(source.name, await source.read(0, source.size));
  const modelType = typeof raw['model_type'] === 'string' ? raw['model_type'] : null;
  if (raw['model_type'] !== undefined && typeof raw['model_type'] !== 'string') throw new FormatError(source.name, `"model_type" is ${JSON.stringify(raw['model_type'])}, not a string`);
  const layerCountKey = ['n_layer', 'num_hidden_layers', 'num_layers'].find((k) => raw[k] !== undefined) ?? null;
  const layers = layerCountKey ? raw[layerCountKey] : undefined;
  if (layerCountKey && !(Number.isSafeInteger(layers) && (layers as number) > 0 && (layers as number) <= 100_000)) {
    throw new FormatError(source.name, `"${layerCountKey}" is ${JSON.stringify(layers)}, not a positive whole number of layers`);
  }
  return { modelType, layerCount: layerCountKey ? (layers as number) : null, layerCountKey, raw };
}

/** Parses bytes as a JSON object, with a FormatError naming the file otherwise. */
export function parseJsonObject(file: string, bytes: Uint8Array): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new FormatError(file, `is not valid JSON (${cause instanceof Error ? cause.message : String(cause)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new FormatError(file, 'is not a JSON object');
  return parsed as Record<string, unknown>;
}
