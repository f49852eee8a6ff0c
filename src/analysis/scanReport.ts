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
  verdict: {
    editedLayers: number[];
    /** Why each flagged layer was flagged, and what else a reader must know (non-finite or outlier entries). */
    findings: string[];
  };
}

export interface ReportLayer {
  layer: number;
  tensor: string;
  pcs: number | null;
  pcsZ: number | null;
  sigma: number[];
  /** Estimated from the top left singular vector of W'. */
  sameDirectionFraction: number | null;
  /** NaN or infinite entries, and entries over 50x their row's and column's typical magnitude (set to zero for the statistics). */
  nonFiniteEntries: number;
  outlierEntries: number;
  /** The largest gap sigma_j/sigma_(j+1) of the key-whitened spectrum (README "How a layer is flagged"); null where not computed. */
  keyWhitenedGap: number | null;
  flagged: boolean;
}

export interface ReportDiffLayer {
  layer: number;
  frobenius: number;
  rankOneShare: number | null;
  /** Exact: from the top left singular vector of dW = W' - W. */
  sameDirectionFraction: number | null;
  /** Entries that changed to or from a non-finite value (not in frobenius). */
  nonFiniteEntries: number;
}

export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** Serialises with a stable key order (the interfaces' order) and two-space indentation. */
export function reportToJson(report: ScanReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
