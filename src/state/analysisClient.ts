import { proxy, type Remote, wrap } from 'comlink';
import type { AnalysisSession, ScanRequest } from '../analysis/analysisSession';
import type { ScanProgress, ScanResult } from '../analysis/scanModel';

/** The page's one analysis worker, created on first use. */
let remote: Remote<AnalysisSession> | null = null;

export function analysisWorker(): Remote<AnalysisSession> {
  remote ??= wrap<AnalysisSession>(new Worker(new URL('../workers/analysis.worker.ts', import.meta.url), { type: 'module', name: 'analysis' }));
  return remote;
}

export function runScan(request: ScanRequest, onProgress: (p: ScanProgress) => void): Promise<ScanResult> {
  return analysisWorker().scan(request, proxy(onProgress));
}
