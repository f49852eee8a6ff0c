import { type ByteSource, checkSpan, isPlainFileName, type SiblingResolver } from './byteSource';
import { FormatError } from './formatError';

type Fetch = typeof fetch;

/**
 * A file behind an HTTP(S) URL, read with Range requests. Opening probes one byte to learn the size and to
 * check that the server honours Range (a 200 answer means it would send the whole file: refused).
 */
export class UrlSource implements ByteSource {
  private constructor(
    readonly name: string,
    readonly size: number,
    private readonly fetchImpl: Fetch,
  ) {}

  static async open(url: string, fetchImpl: Fetch = globalThis.fetch.bind(globalThis)): Promise<UrlSource> {
    const response = await rangeFetch(url, 0, 0, fetchImpl);
    const total = parseContentRangeTotal(url, response);
    await response.body?.cancel();
    return new UrlSource(url, total, fetchImpl);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkSpan(this, offset, length);
    if (length === 0) return new Uint8Array(0);
    const response = await rangeFetch(this.name, offset, offset + length - 1, this.fetchImpl);
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length !== length) {
      throw new FormatError(this.name, `server sent ${bytes.length} bytes for a range of ${length} at offset ${offset}`);
    }
    return bytes;
  }
}

async function rangeFetch(url: string, first: number, last: number, fetchImpl: Fetch): Promise<Response> {
  const controller = new AbortController();
  let response: Response;
  try {
    response = await fetchImpl(url, { headers: { Range: `bytes=${first}-${last}` }, signal: controller.signal, cache: 'no-store' });
  } catch (cause) {
    throw new FormatError(
      url,
      `could not be fetched (${cause instanceof Error ? cause.message : String(cause)}): the host is unreachable or refused cross-origin access (CORS)`,
    );
  }
  if (response.status === 200) {
    controller.abort(); // do not download a whole multi-GB file
    throw new FormatError(url, 'the server does not support HTTP Range requests (it answered 200 with the whole file instead of 206)');
  }
  if (response.status !== 206) {
    controller.abort();
    throw new FormatError(url, `the server answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
  }
  return response;
}

function parseContentRangeTotal(url: string, response: Response): number {
  const header = response.headers.get('Content-Range');
  if (header === null) {
    throw new FormatError(
      url,
      'the server answered the range request but its Content-Range header is not readable (cross-origin servers must list it in Access-Control-Expose-Headers)',
    );
  }
  const match = /^bytes\s+\d+-\d+\/(\d+)$/i.exec(header.trim());
  if (!match?.[1]) throw new FormatError(url, `unreadable Content-Range header "${header}"`);
  return Number(match[1]);
}

/** Siblings of a URL: plain names resolved against it; a missing one (404) resolves to null. */
export function urlSiblingResolver(baseUrl: string, fetchImpl?: Fetch): SiblingResolver {
  return async (name) => {
    if (!isPlainFileName(name)) return null;
    const url = new URL(name, baseUrl).toString();
    try {
      return await UrlSource.open(url, fetchImpl);
    } catch (error) {
      if (error instanceof FormatError && /HTTP 404/.test(error.message)) return null;
      throw error;
    }
  };
}
