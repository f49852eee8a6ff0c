import { type ByteSource, checkSpan, isPlainFileName, type SiblingResolver } from './byteSource';
import { CancelledError, FormatError } from './formatError';

type Fetch = typeof fetch;

export interface UrlOptions {
  fetchImpl?: Fetch;
  /** A request that makes no progress (no answer, no body bytes) for this long is abandoned. Default 30 s. */
  stallTimeoutMs?: number;
  /** Slowest transfer accepted, bytes per second, after the first answer (a server trickling bytes). Default 16 KB/s. */
  minBytesPerSecond?: number;
  /** Aborts every request (the page's Cancel). */
  signal?: AbortSignal;
}

const DEFAULTS = { stallTimeoutMs: 30_000, minBytesPerSecond: 16 * 1024 } as const;

/**
 * A file behind an HTTP(S) URL, read with Range requests. Opening probes one byte to learn the size and to
 * check that the server honours Range (a 200 answer means it would send the whole file: refused). Every
 * request has a deadline and a stall timeout, so a server that never answers, or trickles bytes, fails with a
 * message instead of hanging; a body that ends early or lies about its length is an error naming the URL.
 */
export class UrlSource implements ByteSource {
  private constructor(
    readonly name: string,
    readonly size: number,
    private readonly options: UrlOptions,
  ) {}

  /** `options` may be a fetch function (as before the options existed). */
  static async open(url: string, options: UrlOptions | Fetch = {}): Promise<UrlSource> {
    const o = typeof options === 'function' ? { fetchImpl: options } : options;
    // Two bytes, not one: some static servers (sirv, behind `vite preview`) answer "bytes=0-0" with the whole file.
    const { response, bytes } = await rangeRequest(url, 0, 1, o);
    const total = parseContentRangeTotal(url, response);
    if (bytes.length !== Math.min(2, total)) throw new FormatError(url, `the server sent ${bytes.length} bytes for the first ${Math.min(2, total)} of the file`);
    return new UrlSource(url, total, o);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkSpan(this, offset, length);
    if (length === 0) return new Uint8Array(0);
    const { bytes } = await rangeRequest(this.name, offset, offset + length - 1, this.options);
    if (bytes.length !== length) {
      throw new FormatError(this.name, `server sent ${bytes.length} bytes for a range of ${length} at offset ${offset}`);
    }
    return bytes;
  }
}

/** One Range request, its status checked and its body read whole, under the stall timeout and deadline. */
async function rangeRequest(url: string, first: number, last: number, o: UrlOptions): Promise<{ response: Response; bytes: Uint8Array }> {
  const fetchImpl = o.fetchImpl ?? globalThis.fetch.bind(globalThis);
  const stallMs = o.stallTimeoutMs ?? DEFAULTS.stallTimeoutMs;
  const length = last - first + 1;
  const deadlineMs = stallMs + (1000 * length) / (o.minBytesPerSecond ?? DEFAULTS.minBytesPerSecond);
  const controller = new AbortController();
  let why: 'stall' | 'deadline' | null = null;
  let stall = setTimeout(() => ((why = 'stall'), controller.abort()), stallMs);
  const deadline = setTimeout(() => ((why = 'deadline'), controller.abort()), deadlineMs);
  const onCancel = () => controller.abort();
  o.signal?.addEventListener('abort', onCancel);
  const progress = () => {
    clearTimeout(stall);
    stall = setTimeout(() => ((why = 'stall'), controller.abort()), stallMs);
  };
  let received = 0;
  const failure = (cause: unknown, phase: 'answer' | 'body'): Error => {
    if (o.signal?.aborted) return new CancelledError();
    if (why === 'stall') {
      return new FormatError(url, phase === 'answer' ? `did not answer within ${stallMs / 1000} s (no response to a request for ${length} bytes)` : `sent nothing for ${stallMs / 1000} s after ${received} of ${length} bytes`);
    }
    if (why === 'deadline') return new FormatError(url, `is too slow: ${received} of ${length} bytes in ${(deadlineMs / 1000).toFixed(0)} s`);
    const message = cause instanceof Error ? `${cause.message}${cause.cause instanceof Error ? `: ${cause.cause.message}` : ''}` : String(cause);
    if (phase === 'body') return new FormatError(url, `the connection closed after ${received} of ${length} bytes (${message})`);
    if (/redirect/i.test(message)) return new FormatError(url, `redirects too many times (${message}): a redirect loop on the server`);
    return new FormatError(url, `could not be fetched (${message}): the host is unreachable or refused cross-origin access (CORS)`);
  };
  try {
    let response: Response;
    try {
      response = await fetchImpl(url, { headers: { Range: `bytes=${first}-${last}` }, signal: controller.signal, cache: 'no-store' });
    } catch (cause) {
      throw failure(cause, 'answer');
    }
    progress();
    if (response.status === 200) {
      controller.abort(); // do not download a whole multi-GB file
      const html = /text\/html/i.test(response.headers.get('Content-Type') ?? '');
      throw new FormatError(
        url,
        html
          ? 'the server answered with a web page (HTTP 200, text/html) instead of the file: the file is probably not there (single-page app servers answer every path with their page)'
          : 'the server does not support HTTP Range requests (it answered 200 with the whole file instead of 206)',
      );
    }
    if (response.status !== 206) {
      controller.abort();
      throw new FormatError(url, `the server answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
    }
    const declared = Number(response.headers.get('Content-Length') ?? Number.NaN);
    if (Number.isFinite(declared) && declared > length) {
      controller.abort();
      throw new FormatError(url, `the server announced ${declared} bytes for a range of ${length}`);
    }
    const out = new Uint8Array(length);
    const reader = response.body?.getReader();
    if (reader) {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          progress();
          if (received + value.length > length) {
            controller.abort();
            throw new FormatError(url, `the server sent more than the ${length} bytes asked for at offset ${first}`);
          }
          out.set(value, received);
          received += value.length;
        }
      } catch (cause) {
        throw cause instanceof FormatError ? cause : failure(cause, 'body');
      }
    }
    return { response, bytes: received === length ? out : out.subarray(0, received) };
  } finally {
    clearTimeout(stall);
    clearTimeout(deadline);
    o.signal?.removeEventListener('abort', onCancel);
  }
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
  const total = Number(match[1]);
  if (!Number.isSafeInteger(total)) throw new FormatError(url, `Content-Range total "${match[1]}" is not a usable size`);
  return total;
}

/** Siblings of a URL: plain names resolved against it; a missing one (404) resolves to null. */
export function urlSiblingResolver(baseUrl: string, options: UrlOptions | Fetch = {}): SiblingResolver {
  return async (name) => {
    if (!isPlainFileName(name)) return null;
    const url = new URL(name, baseUrl).toString();
    try {
      return await UrlSource.open(url, options);
    } catch (error) {
      if (error instanceof FormatError && /HTTP 404|web page \(HTTP 200, text\/html\)/.test(error.message)) return null;
      throw error;
    }
  };
}
