import { type FileHandle, open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type ByteSource, checkSpan, isPlainFileName, type SiblingResolver } from '../formats/byteSource';
import { openCheckpoint } from '../formats/checkpoint';
import { FormatError } from '../formats/formatError';
import { openModelInput, type OpenedInput } from '../analysis/modelInput';

/** A file on disk, read with positioned reads (never whole). */
export class NodeFileSource implements ByteSource {
  private spare: Uint8Array | null = null;

  private constructor(
    readonly name: string,
    readonly size: number,
    private readonly handle: FileHandle,
  ) {}

  static async open(path: string): Promise<NodeFileSource> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      throw new FormatError(path, code === 'ENOENT' ? 'does not exist' : `cannot be opened (${code ?? String(cause)})`);
    }
    const info = await handle.stat();
    if (!info.isFile()) {
      await handle.close();
      throw new FormatError(path, info.isDirectory() ? 'is a folder; give a file' : 'is not a regular file');
    }
    const { size } = info;
    return new NodeFileSource(path, size, handle);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkSpan(this, offset, length);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(out, done, length - done, offset + done);
      if (bytesRead === 0) throw new FormatError(this.name, `file ended early while reading ${length} bytes at ${offset}`);
      done += bytesRead;
    }
    return out;
  }

  /** Spans read into one reused buffer (no garbage per span). */
  async *readSpans(offset: number, length: number, spanBytes: number): AsyncGenerator<Uint8Array> {
    checkSpan(this, offset, length);
    const size = Math.min(spanBytes, length);
    // The last call's buffer when it is the same size (a scan reads every layer in the same spans); taken
    // while in use, so concurrent reads never share it.
    const buffer = this.spare?.length === size ? this.spare : new Uint8Array(size);
    this.spare = null;
    for (let at = 0; at < length; at += spanBytes) {
      const want = Math.min(spanBytes, length - at);
      let done = 0;
      while (done < want) {
        const { bytesRead } = await this.handle.read(buffer, done, want - done, offset + at + done);
        if (bytesRead === 0) throw new FormatError(this.name, `file ended early while reading ${length} bytes at ${offset}`);
        done += bytesRead;
      }
      yield buffer.subarray(0, want);
    }
    this.spare = buffer;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** Expands directories into their checkpoint files (weights, index, config.json). */
export async function expandPaths(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch {
      throw new FormatError(path, 'does not exist');
    }
    if (!info.isDirectory()) {
      out.push(path);
      continue;
    }
    const names = (await readdir(path)).filter((n) => n.endsWith('.safetensors') || n.endsWith('.safetensors.index.json') || n === 'config.json');
    if (names.length === 0) throw new FormatError(path, 'is a folder without .safetensors files');
    out.push(...names.sort().map((n) => join(path, n)));
  }
  return out;
}

/** Siblings on disk: plain names next to the first given file. */
export function directorySiblingResolver(firstPath: string, opened: NodeFileSource[]): SiblingResolver {
  return async (name) => {
    if (!isPlainFileName(name)) return null;
    const existing = opened.find((s) => basename(s.name) === name);
    if (existing) return existing;
    const path = join(dirname(firstPath), name);
    try {
      const source = await NodeFileSource.open(path);
      opened.push(source);
      return source;
    } catch {
      return null;
    }
  };
}

/**
 * Opens the checkpoint at `paths` (files or folders). Every file opened, siblings found later included, is
 * added to `opened`, which the caller closes.
 */
export async function openCheckpointAt(paths: readonly string[], opened: NodeFileSource[]): Promise<OpenedInput> {
  // A URL is read over HTTP Range exactly as the page reads it (config.json, shards, tokenizer beside it).
  if (paths.some((p) => /^https?:\/\//i.test(p))) {
    if (paths.length !== 1) throw new FormatError(paths.join(' '), 'give one URL (the weights or the index; the rest is found next to it), not a mix of URLs and files');
    return openModelInput({ kind: 'url', url: paths[0] as string });
  }
  const files = await expandPaths(paths);
  const sources: NodeFileSource[] = [];
  for (const f of files) sources.push(await NodeFileSource.open(f));
  opened.push(...sources);
  const resolve = directorySiblingResolver(files[0] as string, opened);
  return { checkpoint: await openCheckpoint(sources, resolve, paths.join(' ')), resolve, sources };
}
