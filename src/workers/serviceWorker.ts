/// <reference lib="webworker" />
/**
 * The app's service worker (built to sw.js): keeps the app and the demo for offline use, answers the demo's
 * HTTP Range reads from the cache, and adds COOP/COEP (cross-origin isolation, so onnxruntime-web can use
 * threads on hosts that set no headers) and the Content-Security-Policy to what it serves.
 */
import { fullPolicy } from './contentSecurityPolicy';

declare const self: ServiceWorkerGlobalScope;

interface Precache {
  version: string;
  files: string[];
}

const scope = new URL(self.registration.scope);
const cacheName = (version: string) => `edit-forensics-${version}`;
interface Opened {
  name: string;
  cache: Cache;
  files: Set<string>;
}

let precached: Promise<Opened> | null = null;

/**
 * The manifest from the network, or offline (a worker restarted with no network) the copy kept in a
 * cache at the last start, so the offline app keeps its file list.
 */
async function manifestResponse(url: string): Promise<Response> {
  try {
    const response = await fetch(url, { cache: 'no-cache' });
    if (response.ok) return response;
  } catch {
    // offline: fall through to the cached copy
  }
  for (const name of await caches.keys()) {
    if (!name.startsWith('edit-forensics-')) continue;
    const cached = await (await caches.open(name)).match(url);
    if (cached) return cached;
  }
  throw new Error('no precache manifest: offline before the first visit completed');
}

async function precache(): Promise<Opened> {
  const url = new URL('precache.json', scope).href;
  const response = await manifestResponse(url);
  const manifest = (await response.clone().json()) as Precache;
  const name = cacheName(manifest.version);
  const cache = await caches.open(name);
  await cache.put(url, response);
  const files = new Set(manifest.files.map((f) => new URL(f, scope).href));
  return { name, cache, files };
}

function opened(): Promise<Opened> {
  precached ??= precache().catch((error: unknown) => {
    precached = null;
    throw error;
  });
  return precached;
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const { cache, files } = await opened();
      await cache.addAll([...files]);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const { name: current } = await opened();
      for (const name of await caches.keys()) if (name.startsWith('edit-forensics-') && name !== current) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

/** Same response with cross-origin isolation and the CSP added (navigations and scripts). */
function withHeaders(response: Response, search: string): Response {
  if (response.status === 0 || response.type === 'opaque') return response;
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  headers.set('Content-Security-Policy', fullPolicy(search, self.location.origin));
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** A 206 answer for `bytes=a-b` from a whole cached file. */
async function slice(whole: Response, range: string): Promise<Response> {
  const blob = await whole.blob();
  const m = /^bytes=(\d*)-(\d*)$/.exec(range);
  if (!m) return new Response(null, { status: 416, headers: { 'Content-Range': `bytes */${blob.size}` } });
  const start = m[1] ? Number(m[1]) : Math.max(0, blob.size - Number(m[2]));
  const end = m[1] && m[2] ? Math.min(blob.size - 1, Number(m[2])) : blob.size - 1;
  if (start > end || start >= blob.size) return new Response(null, { status: 416, headers: { 'Content-Range': `bytes */${blob.size}` } });
  return new Response(blob.slice(start, end + 1), {
    status: 206,
    headers: { 'Content-Range': `bytes ${start}-${end}/${blob.size}`, 'Content-Length': String(end - start + 1), 'Content-Type': whole.headers.get('Content-Type') ?? 'application/octet-stream' },
  });
}

async function handle(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const { cache, files } = await opened();
  const key = `${url.origin}${url.pathname}`;
  if (request.mode === 'navigate') {
    // Network first (a new version shows up), the cached page offline.
    try {
      const response = await fetch(request);
      return withHeaders(response, url.search);
    } catch (error) {
      const cached = (await cache.match(key)) ?? (await cache.match(new URL('index.html', scope).href));
      if (!cached) throw error;
      return withHeaders(cached, url.search);
    }
  }
  // A worker script gets the CSP of the page that starts it (its referrer): that page's link names the
  // model origin the worker may fetch from.
  const referrer = request.referrer ? new URL(request.referrer) : null;
  const search = referrer && referrer.origin === url.origin ? referrer.search : '';
  const range = request.headers.get('range');
  if (!files.has(key)) return range ? fetch(request) : withHeaders(await fetch(request), search);
  let whole = await cache.match(key);
  if (!whole) {
    const response = await fetch(key);
    if (response.status !== 200) return response;
    await cache.put(key, response.clone());
    whole = response;
  }
  return range ? slice(whole, range) : withHeaders(whole, search);
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(handle(request));
});
