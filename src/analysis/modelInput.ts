import { BlobSource, type ByteSource, resolverFromSources, type SiblingResolver } from '../formats/byteSource';
import { type Checkpoint, openCheckpoint } from '../formats/checkpoint';
import { FormatError } from '../formats/formatError';
import { UrlSource, type UrlOptions, urlSiblingResolver } from '../formats/urlSource';

/** Where a model comes from: files the user dropped or picked, or a URL read with HTTP Range. */
export type ModelInput = { kind: 'files'; files: File[] } | { kind: 'url'; url: string };

/** An opened model input: the checkpoint, the files given, and the resolver that finds files next to it (config, tokenizer). */
export interface OpenedInput {
  checkpoint: Checkpoint;
  resolve: SiblingResolver;
  sources: ByteSource[];
}

export async function openModelInput(input: ModelInput, url: UrlOptions = {}): Promise<OpenedInput> {
  if (input.kind === 'files') {
    if (input.files.length === 0) throw new FormatError('(no files)', 'drop or pick the files of a checkpoint first');
    const sources = input.files.map((f) => new BlobSource(f, f.name));
    const resolve = resolverFromSources(sources);
    return { checkpoint: await openCheckpoint(sources, resolve, input.files.map((f) => f.name).join(', ')), resolve, sources };
  }
  const address = httpUrl(input.url).toString();
  const source = await UrlSource.open(address, url);
  const resolve = urlSiblingResolver(address, url);
  return { checkpoint: await openCheckpoint([source], resolve, address), resolve, sources: [source] };
}

/** One file (an edit bundle, a text file) from a dropped File, a URL, or a source already open (the CLI's files on disk). */
export type FileInput = { kind: 'file'; file: File } | { kind: 'url'; url: string } | { kind: 'source'; source: ByteSource };

export async function openFileInput(input: FileInput, url: UrlOptions = {}): Promise<ByteSource> {
  if (input.kind === 'file') return new BlobSource(input.file, input.file.name);
  if (input.kind === 'source') return input.source;
  return UrlSource.open(httpUrl(input.url).toString(), url);
}

function httpUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text, globalThis.location?.href);
  } catch {
    throw new FormatError(text, 'is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FormatError(text, 'only http(s) URLs can be read');
  return url;
}
