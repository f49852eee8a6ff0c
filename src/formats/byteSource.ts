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
  /**
   * Optional: [offset, offset + length) as consecutive spans of `spanBytes` (the last one shorter), each valid
   * only until the next is asked for: one buffer serves them all, so a long read leaves no garbage behind.
   */
  readSpans?(offset: number, length: number, spanBytes: number): AsyncGenerator<Uint8Array>;
}

/** A source's spans (see ByteSource.readSpans), or plain reads of one span at a time where it has none. */
export async function* readSpans(source: ByteSource, offset: number, length: number, spanBytes: number): AsyncGenerator<Uint8Array> {
  if (source.readSpans) {
    yield* source.readSpans(offset, length, spanBytes);
    return;
  }
  for (let at = 0; at < length; at += spanBytes) yield await source.read(offset + at, Math.min(spanBytes, length - at));
}

/** Finds a sibling file (a shard, config.json) by the plain name a checkpoint refers to it with. */
export type SiblingResolver = (name: string) => Promise<ByteSource | null>;

/** Checks a read request against the source's size before touching any bytes. */
export function checkSpan(source: ByteSource, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > source.size) {
    throw new FormatError(source.name, `read of ${length} bytes at offset ${offset} is past the end of the file (${source.size} bytes)`);
  }
}

/** A read that delivered nothing for this long is taken as stalled (see BlobSource). */
export const BLOB_STALL_MS = 20_000;
/** Fresh attempts at a stalled span before the read fails with a message instead of hanging. */
const STALL_RETRIES = 3;

class StalledRead extends Error {}

/** `promise`, or a StalledRead rejection after `ms` (its timer cleared either way). */
async function withinStall<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new StalledRead()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A Blob or File (dropped, picked, or built in memory), read by slicing. Chromium sometimes never settles a
 * read of a File's bytes (measured: a stream read of a 3.1 GB dropped checkpoint in the page's language-model
 * worker, and scans in the e2e Edit flow, stalled with the CPU idle): a read that delivers nothing for
 * `stallMs` is abandoned and the span read again through a fresh slice, up to 3 times, and then fails with
 * a message naming the file, never hanging.
 */
export class BlobSource implements ByteSource {
  readonly name: string;
  readonly size: number;
  private readonly blob: Blob;
  private spare: ArrayBuffer | null = null;

  constructor(blob: Blob, name?: string, private readonly stallMs = BLOB_STALL_MS) {
    this.blob = blob;
    this.size = blob.size;
    this.name = name ?? ('name' in blob && typeof blob.name === 'string' ? blob.name : 'blob');
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkSpan(this, offset, length);
    for (let attempt = 0; ; attempt++) {
      try {
        const bytes = new Uint8Array(await withinStall(this.blob.slice(offset, offset + length).arrayBuffer(), this.stallMs));
        if (bytes.length !== length) throw new FormatError(this.name, `short read: wanted ${length} bytes at ${offset}, got ${bytes.length}`);
        return bytes;
      } catch (error) {
        if (!(error instanceof StalledRead)) throw error;
        if (attempt + 1 >= STALL_RETRIES) throw this.stalled(offset);
        console.warn(`${this.name}: a read at offset ${offset} delivered nothing for ${this.stallMs} ms; reading it again`);
      }
    }
  }

  private stalled(offset: number): FormatError {
    return new FormatError(this.name, `the browser delivered no bytes at offset ${offset} for ${STALL_RETRIES} x ${(this.stallMs / 1000).toFixed(0)} s (the file moved, or its disk stopped answering); drop it again`);
  }

  /**
   * Spans through one stream read into one reused buffer (a BYOB reader): in Chromium twice the throughput of
   * 4 MB slices (670 against 330 MB/s measured) and no garbage; slices where the browser has no BYOB reader,
   * and from a stalled stream read on (see the class comment).
   */
  async *readSpans(offset: number, length: number, spanBytes: number): AsyncGenerator<Uint8Array> {
    checkSpan(this, offset, length);
    let reader: ReadableStreamBYOBReader | null = null;
    try {
      reader = this.blob.slice(offset, offset + length).stream().getReader({ mode: 'byob' });
    } catch {
      reader = null;
    }
    if (!reader) {
      for (let at = 0; at < length; at += spanBytes) yield await this.read(offset + at, Math.min(spanBytes, length - at));
      return;
    }
    const size = Math.min(spanBytes, length);
    // The last call's buffer when it is the same size (a scan reads every layer in the same spans); a detached
    // one has size 0. Taken while in use, so concurrent reads never share it.
    let buffer: ArrayBuffer = this.spare?.byteLength === size ? this.spare : new ArrayBuffer(size);
    this.spare = null;
    let at = 0;
    try {
      for (; at < length; ) {
        const want = Math.min(spanBytes, length - at);
        let filled = 0;
        while (filled < want) {
          const { value, done } = await withinStall(reader.read(new Uint8Array(buffer, filled, want - filled)), this.stallMs);
          if (done || !value) throw new FormatError(this.name, `short read: the file ended ${length - at - filled} bytes early (at ${offset + at + filled})`);
          buffer = value.buffer as ArrayBuffer; // the reader hands the (transferred) buffer back
          filled += value.length;
        }
        yield new Uint8Array(buffer, 0, want);
        at += want;
      }
      this.spare = buffer;
    } catch (error) {
      if (!(error instanceof StalledRead)) throw error;
      console.warn(`${this.name}: a stream read at offset ${offset + at} delivered nothing for ${this.stallMs} ms; reading the rest through slices`);
      // The stream is abandoned (its buffer went with the stalled read): the rest through plain slices.
      void reader.cancel().catch(() => undefined);
      reader = null;
      for (; at < length; at += spanBytes) yield await this.read(offset + at, Math.min(spanBytes, length - at));
    } finally {
      if (reader) {
        await reader.cancel().catch(() => undefined);
        reader.releaseLock();
      }
    }
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
