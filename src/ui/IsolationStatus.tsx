/**
 * Whether onnxruntime-web can use threads: only in a cross-origin isolated page (COOP/COEP headers from the
 * host, or added by the app's service worker). Otherwise the language model runs on one thread, and the
 * page says so rather than leaving it to be guessed from the speed.
 */
export function IsolationStatus() {
  const isolated = globalThis.crossOriginIsolated === true;
  return (
    <p className="backend" data-testid="threads">
      {isolated
        ? 'Language model: wasm with 2 threads (this page is cross-origin isolated).'
        : 'Language model: wasm on 1 thread, since this page is not cross-origin isolated (the host sends no COOP/COEP headers and the service worker is not active yet). Results are the same, only slower.'}
    </p>
  );
}
