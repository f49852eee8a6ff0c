import { usePromptStore } from './promptStore';
import { useReversalStore } from './reversalStore';
import { useAppStore } from './store';
import { useTraceStore } from './traceStore';

/** Every result the page holds, for the report's JSON: the scan report and whatever the panels computed. */
export function collectResults(): Record<string, unknown> {
  const app = useAppStore.getState();
  const scan = app.reportJson();
  const reversal = useReversalStore.getState();
  const trace = useTraceStore.getState();
  const prompt = usePromptStore.getState();
  return {
    view: { panel: app.panel, layer: app.selectedLayer, scale: app.scale },
    scan: scan ? JSON.parse(scan) : null,
    prompt: prompt.results ? { prompt: prompt.prompt, approximatedK: prompt.approxK, ...prompt.results } : null,
    reversal: reversal.result,
    uniquePredictions: reversal.unique,
    trace: trace.trace,
    relationProbeTable: trace.table,
  };
}
