import { reversalCsv } from '../analysis/reversal';
import { activeLayer, isDemoWorld, useAppStore } from '../state/store';
import { saveBlob, useReversalStore } from '../state/reversalStore';
import { FilePicker } from './FilePicker';
import { JobStatus } from './JobStatus';
import { AccuracyChart, SimilarityChart, UniqueChart } from './ReversalCharts';

const pm = (m: { mean: number; std: number }, digits = 2) => `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}`;

/**
 * Paper Sec. 7 for the loaded model: the reversal experiment over an edit bundle (Tab. 2, Tab. 5, Tab. 3),
 * the unique-predictions test (Fig. 8), and a repaired checkpoint to download.
 */
export function ReversalPanel() {
  const s = useReversalStore();
  const app = useAppStore();
  const layer = activeLayer(app);
  const demo = isDemoWorld(app);
  const hasOriginal = app.originalFiles.length > 0 || app.originalUrl !== '' || demo;
  const busy = s.status === 'running';
  const r = s.result;
  return (
    <section className="panel reversal-panel" aria-label="reversal panel">
      <h2>Reverse the edit at layer {layer}</h2>
      <p className="hint">
        Drops the top k singular components of the layer's MLP matrix, W~(r, k) = W' − Σ<sub>i≤k</sub> σ<sub>i</sub>u<sub>i</sub>v<sub>i</sub>ᵀ (paper Sec. 7). The Prompt tab shows the approximated model's answers beside the others.
      </p>

      <fieldset>
        <legend>Repaired model</legend>
        <label htmlFor="repair-k">k</label>
        <input id="repair-k" type="number" min={1} max={15} value={s.repairK} onChange={(e) => s.setRepairK(Number(e.target.value))} />
        <button type="button" disabled={busy} onClick={() => void s.downloadRepaired(false)}>
          Download repaired model
        </button>
        {hasOriginal && (
          <button type="button" disabled={busy} onClick={() => void s.downloadRepaired(true)} title="W' − dW: the original's matrix at this layer">
            Download exact repair (original given)
          </button>
        )}
        {s.repairMessage && (
          <p className="note" data-testid="repair-message">
            {s.repairMessage}
          </p>
        )}
      </fieldset>

      <fieldset>
        <legend>Reversal experiment (Tab. 2, Tab. 5, Tab. 3)</legend>
        <FilePicker id="bundle-input" label="Edit bundle…" accept=".safetensors" chosen={s.bundleFile?.name ?? (demo ? 'the demo’s' : null)} onFile={s.setBundleFile} />
        <label htmlFor="per-relation">edits per relation</label>
        <input id="per-relation" type="number" min={1} max={1000} value={s.perRelation} onChange={(e) => s.setPerRelation(Number(e.target.value))} />
        <button type="button" disabled={busy} onClick={() => void s.runReversal()}>
          Run reversal
        </button>
        <p className="hint">The bundle's edits must be relative to {hasOriginal ? 'the original model' : 'this model'} (each is applied to its layer {layer} matrix in turn).</p>
      </fieldset>

      <fieldset>
        <legend>Unique predictions (Fig. 8): a second detection signal</legend>
        <FilePicker id="samples-input" label="Neutral text, one sample per line…" accept=".txt,text/plain" chosen={s.samplesFile?.name ?? (demo ? 'the demo’s' : null)} onFile={s.setSamplesFile} />
        <button type="button" disabled={busy} onClick={() => void s.runUniquePredictions()}>
          Count unique predictions
        </button>
      </fieldset>

      <JobStatus job={s} onCancel={s.cancel} prefix="reversal" />

      {s.unique && (
        <div data-testid="unique-result">
          <UniqueChart model={s.unique.model} original={s.unique.original} />
          <p>
            {s.unique.samples} samples: this model {pm(s.unique.model.summary)}
            {s.unique.original ? `, the original ${pm(s.unique.original.summary)}` : ''} distinct continuations out of 16.
          </p>
        </div>
      )}

      {r && (
        <div className="reversal-result">
          <p data-testid="reversal-summary">
            {r.partial ? <strong data-testid="reversal-partial">Partial (cancelled): {r.edits.length} of {r.requested} edits. </strong> : null}
            {r.edits.length} edits at layer {r.layer}: best k = {r.bestK}, reversal accuracy {r.reversal[r.bestK]!.mean.toFixed(1)}%, editing accuracy {r.editing[r.bestK]!.mean.toFixed(1)}% (k = 0: {r.reversal[0]!.mean.toFixed(1)}% / {r.editing[0]!.mean.toFixed(1)}%).
          </p>
          <AccuracyChart result={r} />
          <SimilarityChart result={r} />
          <button type="button" onClick={() => saveBlob(new Blob([reversalCsv(r)], { type: 'text/csv' }), 'reversal.csv')}>
            Export CSV
          </button>
          <button type="button" onClick={() => saveBlob(new Blob([JSON.stringify(r, null, 2)], { type: 'application/json' }), 'reversal.json')}>
            Export JSON
          </button>
          <div className="table-scroll"><table data-testid="reversal-table">
            <caption>Reversal and editing accuracy (%, mean ± std over edits) and rank-one similarity per k</caption>
            <thead>
              <tr>
                <th scope="col">k</th>
                <th scope="col">reversal</th>
                <th scope="col">editing</th>
                <th scope="col">max |cos| with the update</th>
              </tr>
            </thead>
            <tbody>
              {r.reversal.map((m, k) => (
                <tr key={k} className={k === r.bestK ? 'flagged' : undefined} data-k={k}>
                  <td>{k}</td>
                  <td>{pm(m)}</td>
                  <td>{pm(r.editing[k]!)}</td>
                  <td>{k > 0 ? pm(r.similarity[k - 1]!, 3) : ''}</td>
                </tr>
              ))}
            </tbody>
          </table></div>
          <div className="table-scroll"><table data-testid="generations-table">
            <caption>Generations at k = {r.bestK} (Tab. 3)</caption>
            <thead>
              <tr>
                <th scope="col">prompt</th>
                <th scope="col">new object</th>
                <th scope="col">original</th>
                <th scope="col">edited</th>
                <th scope="col">approximated</th>
              </tr>
            </thead>
            <tbody>
              {r.generations.map((g) => (
                <tr key={g.id}>
                  <td>{g.promptText}</td>
                  <td>{g.newObject}</td>
                  <td>{g.original}</td>
                  <td>{g.edited}</td>
                  <td>{g.approximated}</td>
                </tr>
              ))}
            </tbody>
          </table></div>
        </div>
      )}
    </section>
  );
}
