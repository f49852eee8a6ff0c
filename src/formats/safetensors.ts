import type { ByteSource } from './byteSource';
import { DTYPE_BITS } from './dtypes';
import { FormatError } from './formatError';

/** Largest JSON header we accept: real checkpoints have a few hundred KB at most. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Absolute byte offsets in the file: [begin, end). */
  readonly begin: number;
  readonly end: number;
  readonly source: ByteSource;
}

export interface SafetensorsFile {
  readonly source: ByteSource;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
  /** Bytes before the data section: 8 + header length. */
  readonly dataStart: number;
}

/** True if the first bytes can start a safetensors file (cheap check before a full open). */
export function looksLikeSafetensors(first: Uint8Array, fileSize: number): boolean {
  if (first.length < 9 || fileSize < 10) return false;
  const length = readU64(first, 0);
  return length !== null && length >= 2 && 8 + length <= fileSize && first[8] === 0x7b; // '{'
}

function readU64(bytes: Uint8Array, at: number): number | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, 8);
  const value = view.getBigUint64(0, true);
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(value);
}

/**
 * Parses and validates a safetensors header, reading only the header bytes. Every structural problem is a
 * FormatError naming the file and tensor; the data section is never read here.
 */
export async function openSafetensors(source: ByteSource): Promise<SafetensorsFile> {
  const file = source.name;
  if (source.size < 8) throw new FormatError(file, `too small to be a safetensors file (${source.size} bytes)`);
  const lengthBytes = await source.read(0, 8);
  const headerLength = readU64(lengthBytes, 0);
  if (headerLength === null || headerLength > MAX_HEADER_BYTES) {
    throw new FormatError(file, `header length ${headerLength ?? 'over 2^53'} exceeds the ${MAX_HEADER_BYTES}-byte limit: not a safetensors file, or corrupt`);
  }
  if (8 + headerLength > source.size) {
    throw new FormatError(file, `header length ${headerLength} runs past the end of the file (${source.size} bytes)`);
  }
  const headerBytes = await source.read(8, headerLength);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (cause) {
    throw new FormatError(file, `header is not valid UTF-8 JSON (${cause instanceof Error ? cause.message : String(cause)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new FormatError(file, 'header JSON is not an object');
  }
  const dataStart = 8 + headerLength;
  const dataLength = source.size - dataStart;
  const tensors = new Map<string, TensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(file, entry);
      continue;
    }
    tensors.set(name, parseEntry(source, name, entry, dataStart, dataLength));
  }
  checkNoOverlap(file, tensors);
  return { source, tensors, metadata, dataStart };
}

function parseMetadata(file: string, entry: unknown): Record<string, string> {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new FormatError(file, '__metadata__ is not an object of strings');
  }
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new FormatError(file, `__metadata__ value "${k}" is not a string`);
    out[k] = v;
  }
  return out;
}

function parseEntry(source: ByteSource, name: string, entry: unknown, dataStart: number, dataLength: number): TensorInfo {
  const file = source.name;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new FormatError(file, 'entry is not an object with dtype, shape and data_offsets', name);
  }
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string') throw new FormatError(file, 'dtype is missing or not a string', name);
  const bits = Object.hasOwn(DTYPE_BITS, dtype) ? DTYPE_BITS[dtype] : undefined;
  if (bits === undefined) throw new FormatError(file, `unknown dtype "${dtype}"`, name);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new FormatError(file, 'shape is not a list of non-negative integers', name);
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0) ||
    (offsets[0] as number) > (offsets[1] as number)
  ) {
    throw new FormatError(file, 'data_offsets is not a pair [begin, end] of integers with begin <= end', name);
  }
  const [begin, end] = offsets as [number, number];
  if (end > dataLength) {
    throw new FormatError(file, `data_offsets [${begin}, ${end}] are out of range: the data section has ${dataLength} bytes`, name);
  }
  let elements = 1n;
  for (const d of shape as number[]) elements *= BigInt(d);
  const expectedBits = elements * BigInt(bits);
  if (expectedBits % 8n !== 0n || expectedBits / 8n !== BigInt(end - begin)) {
    throw new FormatError(
      file,
      `shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${Number(expectedBits) / 8} bytes but data_offsets span ${end - begin}`,
      name,
    );
  }
  return { name, dtype, shape: shape as number[], begin: dataStart + begin, end: dataStart + end, source };
}

function checkNoOverlap(file: string, tensors: Map<string, TensorInfo>): void {
  const sorted = [...tensors.values()].filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1] as TensorInfo;
    const cur = sorted[i] as TensorInfo;
    if (cur.begin < prev.end) throw new FormatError(file, `data overlaps tensor "${prev.name}"`, cur.name);
  }
}
