/**
 * The scan report (schemaVersion 1): what `Export report` downloads and `edit-forensics scan --json`
 * prints, byte for byte the same. Documented in README ("Report format"). Non-finite numbers become null.
 */
export interface ScanReport {
  schemaVersion: 1;
  backend: 'webgpu' | 'cpu';
  model: { family: string; layers: number; rows: number; cols: number; dtype: string };
  layers: ReportLayer[];
  diff: null | { layers: ReportDiffLayer[] };
  verdict: { editedLayers: number[] };
}

export interface ReportLayer {
  layer: number;
  tensor: string;
  pcs: number | null;
  pcsZ: number | null;
  sigma: number[];
  /** Estimated from the top left singular vector of W'. */
  sameDirectionFraction: number | null;
  flagged: boolean;
}

export interface ReportDiffLayer {
  layer: number;
  frobenius: number;
  rankOneShare: number | null;
  /** Exact: from the top left singular vector of dW = W' - W. */
  sameDirectionFraction: number | null;
}

export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** Serialises with a stable key order (the interfaces' order) and two-space indentation. */
export function reportToJson(report: ScanReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
