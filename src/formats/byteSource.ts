import { FormatError } from './formatError';

/**
 * Random access to the bytes of one file, wherever it lives (a dropped File, a URL, a file on disk).
 * Readers ask only for the spans they need: never the whole file.
 */
export interface ByteSource {
  /** File name or URL, used in every error message. */
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes from `offset`; rejects with a FormatError if they are not there. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Finds a sibling file (a shard, config.json) by the plain name a checkpoint refers to it with. */
export type SiblingResolver = (name: string) => Promise<ByteSource | null>;

/** Checks a read request against the source's size before touching any bytes. */
export function checkSpan(source: ByteSource, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > source.size) {
    throw new FormatError(source.name, `read of ${length} bytes at offset ${offset} is past the end of the file (${source.size} bytes)`);
  }
}

/** A Blob or File (dropped, picked, or built in memory), read by slicing. */
export class BlobSource implements ByteSource {
  readonly name: string;
  readonly size: number;
  private readonly blob: Blob;

  constructor(blob: Blob, name?: string) {
    this.blob = blob;
    this.size = blob.size;
    this.name = name ?? ('name' in blob && typeof blob.name === 'string' ? blob.name : 'blob');
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkSpan(this, offset, length);
    const bytes = new Uint8Array(await this.blob.slice(offset, offset + length).arrayBuffer());
    if (bytes.length !== length) throw new FormatError(this.name, `short read: wanted ${length} bytes at ${offset}, got ${bytes.length}`);
    return bytes;
  }

  /** A lazy view of [begin, end): composing these into a new Blob copies nothing into memory. */
  slice(begin: number, end: number): Blob {
    return this.blob.slice(begin, end);
  }
}

/** Bytes already in memory (tests, generated files). */
export class MemorySource implements ByteSource {
  readonly size: number;

  constructor(
    readonly name: string,
    private readonly bytes: Uint8Array,
  ) {
    this.size = bytes.length;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkSpan(this, offset, length);
    return this.bytes.slice(offset, offset + length);
  }
}

/** Resolver over a list of sources (dropped files): a sibling is found by its file name. */
export function resolverFromSources(sources: readonly ByteSource[]): SiblingResolver {
  return async (name) => sources.find((s) => baseName(s.name) === name) ?? null;
}

export function baseName(path: string): string {
  const clean = path.split(/[?#]/)[0] ?? path;
  const parts = clean.split(/[\\/]/);
  return parts[parts.length - 1] ?? clean;
}

/**
 * A name a checkpoint gives for another file must be a plain file name: no folders, no scheme, no "..".
 * Otherwise a hostile index could send our reads (and the user's privacy) to another host.
 */
export function isPlainFileName(name: string): boolean {
  return /^[A-Za-z0-9._-]+$/.test(name) && name !== '.' && name !== '..';
}
