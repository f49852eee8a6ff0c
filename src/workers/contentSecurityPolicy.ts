/**
 * The app's Content-Security-Policy: its own origin only, plus the origin of a model URL the user gave
 * (`?model=<url>`). Shared by the page (a <meta> written before anything fetches) and the service worker
 * (a header on every response it serves, which also binds the workers). No third-party origin appears.
 */
export const BASE_POLICY = [
  "default-src 'self'",
  // onnxruntime-web compiles WebAssembly; nothing else is evaluated.
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  // Charts set style attributes.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' blob: data:",
  "font-src 'self'",
  "object-src 'none'",
  "frame-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

/** The origin of an http(s) model URL other than the page's own, or null. */
export function modelOrigin(search: string, pageOrigin: string): string | null {
  const model = new URLSearchParams(search).get('model');
  if (!model || model === 'demo' || model === 'none') return null;
  try {
    const url = new URL(model, `${pageOrigin}/`);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
    return url.origin === pageOrigin ? null : url.origin;
  } catch {
    return null;
  }
}

/** connect-src for a page at `pageOrigin` opened with `search`. */
export function connectPolicy(search: string, pageOrigin: string): string {
  const extra = modelOrigin(search, pageOrigin);
  return `connect-src 'self' blob: data:${extra ? ` ${extra}` : ''}`;
}

export function fullPolicy(search: string, pageOrigin: string): string {
  return `${BASE_POLICY}; ${connectPolicy(search, pageOrigin)}`;
}
