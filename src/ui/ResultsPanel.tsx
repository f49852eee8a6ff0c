import type { ScanResult } from '../analysis/scanModel';
import { scanTimingText } from '../analysis/scanTiming';
import { useAppStore } from '../state/store';
import { LayerChart } from './LayerChart';
import { LayerTable } from './LayerTable';

export function ResultsPanel({ result }: { result: ScanResult }) {
  const { scale, setScale, selectedLayer, selectLayer, reportJson } = useAppStore();
  const { report } = result;
  const edited = report.verdict.editedLayers;
  // The scan reads weights; the tokenizer files serve the language model.
  const isTokenizerFile = (name: string) => /(^|[\\/])(tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|vocab\.json|merges\.txt)$/.test(name);
  const usedElsewhere = result.ignoredFiles.filter(isTokenizerFile);
  const ignored = result.ignoredFiles.filter((f) => !isTokenizerFile(f));
  // One bar chart per weights-only statistic; the keys gap only where the scan computed it.
  const charts = [
    { title: 'Pairwise cosine similarity (pcs) of the MLP output rows', term: 'pcs' as const, testId: 'pcs-chart', points: report.layers.map((l) => ({ layer: l.layer, value: l.pcs, flagged: l.flagged })) },
    { title: 'σ1 / σ2 of the row-normalised matrix (a dominant rank-one component)', term: 'sigmaRatio' as const, testId: 'sigma-chart', points: report.layers.map((l, i) => ({ layer: l.layer, value: result.details[i]?.sigmaRatio ?? null, flagged: l.flagged })) },
    ...(report.layers.some((l) => l.keyWhitenedGap !== null)
      ? [{ title: 'Keys gap: the spectrum whitened by the layer\'s own keys (ROME\'s u = C⁻¹k*; flagged at 1.6)', term: 'keyGap' as const, testId: 'key-gap-chart', points: report.layers.map((l) => ({ layer: l.layer, value: l.keyWhitenedGap, flagged: l.flagged })) }]
      : []),
  ];
  const exportReport = () => {
    const json = reportJson();
    if (!json) return;
    const url = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = 'edit-forensics-report.json';
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <section className="panel" aria-labelledby="results-title">
      <h2 id="results-title">Layers</h2>
      <p className="verdict" data-testid="verdict">
        {edited.length === 0
          ? 'No layer looks edited.'
          : `${edited.length === 1 ? 'Layer' : 'Layers'} ${edited.join(', ')} ${report.diff ? (edited.length === 1 ? 'differs' : 'differ') + ' from the original' : edited.length === 1 ? 'looks edited' : 'look edited'}.`}
      </p>
      {report.verdict.findings.length > 0 && (
        <ul className="findings" data-testid="findings" aria-label="Why: the rules that fired and what else was found">
          {report.verdict.findings.map((f) => (
            <li key={f}>{f}</li>
          ))}
        </ul>
      )}
      <p className="hint">
        {report.model.family} ({result.familyDescription}, detected by {result.detectedBy}) · {report.model.layers} layers of {report.model.rows} × {report.model.cols} {report.model.dtype} · computed on {result.backendDescription}
        <span data-testid="scan-timing">{` · ${scanTimingText(result.timing)}`}</span>
        {usedElsewhere.length > 0 && ` · for the Prompt, Reverse and Trace tabs: ${usedElsewhere.join(', ')}`}
        {ignored.length > 0 && ` · not used: ${ignored.join(', ')}`}
      </p>
      <div className="toolbar">
        <fieldset className="segmented">
          <legend>Scale</legend>
          {(['linear', 'log'] as const).map((s) => (
            <label key={s}>
              <input type="radio" name="scale" value={s} checked={scale === s} onChange={() => setScale(s)} /> {s}
            </label>
          ))}
        </fieldset>
        <button type="button" onClick={exportReport} data-testid="export-report">
          Export report (JSON)
        </button>
      </div>
      <div className="chart-row">
        {charts.map((c) => (
          <LayerChart key={c.testId} {...c} scale={scale} selected={selectedLayer} onSelect={selectLayer} />
        ))}
      </div>
      <LayerTable result={result} />
    </section>
  );
}
