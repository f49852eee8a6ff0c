/** Where a scan's time went: the kernels (pcs and the SVD, per layer), and waiting for a layer's bytes. */
export interface ScanTiming {
  seconds: number;
  kernelSeconds: number;
  readWaitSeconds: number;
  /** The key-whitened spectra (sampled keys, their correlation, its Cholesky factor), where computed. */
  keySeconds: number;
}

/** "scanned in 16.2 s: 12.1 s in the kernels (pcs and SVD), 0.40 s waiting for the file". */
export function scanTimingText(t: ScanTiming): string {
  const f = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)} s`;
  return `scanned in ${f(t.seconds)}: ${f(t.kernelSeconds)} in the kernels (pcs and SVD), ${t.keySeconds > 0 ? `${f(t.keySeconds)} in the key-whitened spectra, ` : ''}${f(t.readWaitSeconds)} waiting for the file`;
}
