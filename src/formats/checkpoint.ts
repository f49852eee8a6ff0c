import { type ByteSource, baseName, isPlainFileName, type SiblingResolver } from './byteSource';
import { FormatError } from './formatError';
import { type ModelConfig, parseJsonObject, readModelConfig } from './modelConfig';
import { openSafetensors, type TensorInfo } from './safetensors';

/** A model as a set of tensors, wherever their bytes are (one file or many shards). */
export interface Checkpoint {
  readonly label: string;
  readonly config: ModelConfig | null;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  /** Files given but not used (tokenizer.json, README.md, ...). */
  readonly ignoredFiles: readonly string[];
}

const INDEX_SUFFIX = '.safetensors.index.json';
const MAX_INDEX_BYTES = 50_000_000;

/**
 * Opens a checkpoint from the files the user gave. An index (`model.safetensors.index.json`) decides which
 * shards are needed; without one, every `.safetensors` file given is a part. Shards and config.json are
 * looked up among the given files first, then through `resolveSibling` (next to a URL or a path).
 */
export async function openCheckpoint(given: readonly ByteSource[], resolveSibling: SiblingResolver, label?: string): Promise<Checkpoint> {
  const byName = new Map(given.map((s) => [baseName(s.name), s]));
  const indexes = given.filter((s) => baseName(s.name).endsWith(INDEX_SUFFIX));
  const weights = given.filter((s) => baseName(s.name).endsWith('.safetensors'));
  const configSource = byName.get('config.json') ?? (await resolveSibling('config.json'));
  const used = new Set<ByteSource>([...indexes, ...weights]);
  if (configSource) used.add(configSource);
  const ignoredFiles = given.filter((s) => !used.has(s)).map((s) => s.name);

  if (indexes.length > 1) throw new FormatError(indexes[1]?.name ?? '', 'more than one safetensors index was given; give one model at a time');
  const findShard = async (name: string): Promise<ByteSource | null> => byName.get(name) ?? (await resolveSibling(name));

  let tensors: Map<string, TensorInfo>;
  if (indexes[0]) tensors = await openSharded(indexes[0], findShard);
  else if (weights.length > 0) tensors = await openParts(weights);
  else {
    const names = given.map((s) => baseName(s.name)).join(', ') || 'nothing';
    throw new FormatError(names, 'no .safetensors file or model.safetensors.index.json among the given files');
  }
  if (tensors.size === 0) throw new FormatError((indexes[0] ?? weights[0])?.name ?? 'model', 'holds no tensors at all (an empty safetensors file): nothing to analyse');
  const config = configSource ? await readModelConfig(configSource) : null;
  const first = indexes[0] ?? weights[0];
  return { label: label ?? (first ? first.name : 'model'), config, tensors, ignoredFiles };
}

async function openSharded(index: ByteSource, findShard: (name: string) => Promise<ByteSource | null>): Promise<Map<string, TensorInfo>> {
  if (index.size > MAX_INDEX_BYTES) throw new FormatError(index.name, `index is ${index.size} bytes, over the ${MAX_INDEX_BYTES}-byte limit`);
  const json = parseJsonObject(index.name, await index.read(0, index.size));
  const weightMap = json['weight_map'];
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new FormatError(index.name, 'has no "weight_map" object');
  }
  const tensorsByShard = new Map<string, string[]>();
  for (const [tensor, shard] of Object.entries(weightMap as Record<string, unknown>)) {
    if (typeof shard !== 'string' || !isPlainFileName(shard)) {
      throw new FormatError(index.name, `maps to "${String(shard)}", which is not a plain file name`, tensor);
    }
    const list = tensorsByShard.get(shard) ?? [];
    list.push(tensor);
    tensorsByShard.set(shard, list);
  }
  const tensors = new Map<string, TensorInfo>();
  for (const [shardName, names] of tensorsByShard) {
    const source = await findShard(shardName);
    if (!source) {
      throw new FormatError(index.name, `shard "${shardName}" (${names.length} tensors) is missing: give it together with the index`);
    }
    const shard = await openSafetensors(source);
    for (const name of names) {
      const info = shard.tensors.get(name);
      if (!info) throw new FormatError(source.name, `is listed in ${baseName(index.name)} but not present in this shard`, name);
      tensors.set(name, info);
    }
  }
  return tensors;
}

async function openParts(parts: readonly ByteSource[]): Promise<Map<string, TensorInfo>> {
  const tensors = new Map<string, TensorInfo>();
  for (const part of parts) {
    const file = await openSafetensors(part);
    for (const [name, info] of file.tensors) {
      const previous = tensors.get(name);
      if (previous) throw new FormatError(part.name, `is also in ${previous.source.name}: give one model at a time`, name);
      tensors.set(name, info);
    }
  }
  return tensors;
}
