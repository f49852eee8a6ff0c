import type { ByteSource } from './byteSource';
import { DTYPE_BITS } from './dtypes';
import { FormatError } from './formatError';

/** Largest JSON header we accept: real checkpoints have a few hundred KB at most. */
export const MAX_HEADER_BYTES = 100_000_000;
/** Most tensors in one file (Llama-3-70B's largest shard has under 1,000; a 1.6 M-entry header took 27 s and 1.5 GB). */
export const MAX_TENSORS = 100_000;

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
  const head = await source.read(0, Math.min(source.size, 9));
  const headerLength = readU64(head, 0);
  // A safetensors file starts with its header's length (8 bytes, little-endian) and then the JSON header.
  if (head[8] !== 0x7b) {
    throw new FormatError(file, `is not a safetensors file: byte 8 should open the JSON header with "{" but is ${describeByte(head[8])}${looksLikeText(head) ? ' (the file starts with text)' : ''}`);
  }
  if (headerLength === null || headerLength > MAX_HEADER_BYTES) {
    throw new FormatError(file, `is not a safetensors file, or is corrupt: its header length ${headerLength ?? 'over 2^53'} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (8 + headerLength > source.size) {
    throw new FormatError(file, `is cut short or corrupt: its header length ${headerLength} runs past the end of the file (${source.size} bytes)`);
  }
  const headerBytes = await source.read(8, headerLength);
  // Count entries before parsing: a hostile header of millions of tensors would cost seconds and gigabytes.
  const entries = countOccurrences(headerBytes, DATA_OFFSETS);
  if (entries > MAX_TENSORS) throw new FormatError(file, `header lists about ${entries} tensors, over the limit of ${MAX_TENSORS}: not a model checkpoint`);
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
  checkCoverage(file, tensors, dataStart, dataLength);
  return { source, tensors, metadata, dataStart };
}

const DATA_OFFSETS = new TextEncoder().encode('"data_offsets"');

function countOccurrences(haystack: Uint8Array, needle: Uint8Array): number {
  let count = 0;
  const first = needle[0] as number;
  outer: for (let i = haystack.indexOf(first); i >= 0 && i <= haystack.length - needle.length; i = haystack.indexOf(first, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    count++;
  }
  return count;
}

function describeByte(b: number | undefined): string {
  if (b === undefined) return 'missing';
  const printable = b >= 0x20 && b < 0x7f ? ` ("${String.fromCharCode(b)}")` : '';
  return `0x${b.toString(16).padStart(2, '0')}${printable}`;
}

function looksLikeText(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && bytes.subarray(0, 8).every((b) => (b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09);
}

/**
 * The data section must be exactly the tensors' bytes, without holes or trailing bytes (the format's own
 * rule). This also catches a header length off by a few bytes whose JSON still parses: every tensor would
 * otherwise be read shifted, silently.
 */
function checkCoverage(file: string, tensors: Map<string, TensorInfo>, dataStart: number, dataLength: number): void {
  let expected = dataStart;
  for (const t of [...tensors.values()].filter((x) => x.end > x.begin).sort((a, b) => a.begin - b.begin)) {
    if (t.begin !== expected) {
      throw new FormatError(file, `data bytes ${expected - dataStart}..${t.begin - dataStart} belong to no tensor: the header length or data_offsets are wrong (corrupt file)`, t.name);
    }
    expected = t.end;
  }
  if (expected !== dataStart + dataLength) {
    throw new FormatError(file, `the tensors cover ${expected - dataStart} of the ${dataLength} data bytes: the header length or data_offsets are wrong, or bytes were appended (corrupt file)`);
  }
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
