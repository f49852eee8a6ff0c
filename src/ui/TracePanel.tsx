import { activeLayer, demoWorldOnScreen, isDemoLoaded, useAppStore } from '../state/store';
import { saveBlob } from '../state/reversalStore';
import { probeTableCsv, useTraceStore } from '../state/traceStore';
import type { Candidate } from '../analysis/traceModel';
import { relationName } from './DemoCard';
import { FilePicker } from './FilePicker';
import { JobStatus } from './JobStatus';
import { ProbeTableChart, RelationChart } from './TraceCharts';

/** Ranked object candidates of one method. */
function CandidateTable({ testId, caption, scoreLabel, candidates, format }: { testId: string; caption: string; scoreLabel: string; candidates: readonly Candidate[]; format: (v: number) => string }) {
  return (
    <div className="table-scroll"><table data-testid={testId}>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">rank</th>
          <th scope="col">token</th>
          <th scope="col">{scoreLabel}</th>
        </tr>
      </thead>
      <tbody>
        {candidates.map((c, i) => (
          <tr key={c.token}>
            <td>{i + 1}</td>
            <td>{c.text}</td>
            <td>{format(c.score)}</td>
          </tr>
        ))}
      </tbody>
    </table></div>
  );
}

/**
 * Paper Sec. 5-6 for the loaded model: which relation the edit at this layer targets (a relation probe
 * trained on an edit bundle, Tab. 1) and which new object it writes (training-free readout and, when one is
 * loaded, the paper's trained decoder).
 */
export function TracePanel() {
  const s = useTraceStore();
  const app = useAppStore();
  const layer = activeLayer(app);
  const demo = demoWorldOnScreen(app) !== undefined;
  const demoInfo = isDemoLoaded(app) ? app.demo : null;
  const busy = s.status === 'running';
  const t = s.trace;
  return (
    <section className="panel trace-panel" aria-label="trace panel">
      <h2>Trace the edit at layer {layer}</h2>
      <p className="hint">From the edited matrix alone: the relation of the edited fact (a linear probe on PCA of edited matrices, paper Sec. 5) and its new object (Sec. 6).</p>

      <fieldset>
        <legend>Trace this layer</legend>
        <FilePicker id="decoder-input" label="Trained object decoder…" accept=".safetensors" chosen={s.decoderFile?.name ?? (demo ? 'the demo’s' : 'none (optional)')} onFile={s.setDecoderFile} />
        <button type="button" disabled={busy} onClick={() => void s.runTrace()}>
          Trace layer {layer}
        </button>
      </fieldset>

      <fieldset>
        <legend>Relation probe</legend>
        <p data-testid="probe-status">{s.probe ? `Loaded: ${s.probe.name}, ${s.probe.relations} relations, layer ${s.probe.layer}, trained on ${s.probe.trainedOn}.` : demo ? 'None loaded: tracing uses the demo’s probe.' : 'None loaded: train one on an edit bundle or load a probe file.'}</p>
        <FilePicker id="probe-input" label="Load probe (JSON)" accept=".json,application/json" chosen={s.probe?.name ?? null} onFile={(f) => void s.loadProbeFile(f)} />
        <FilePicker id="trace-bundle-input" label="Edit bundle…" accept=".safetensors" chosen={s.bundleFile?.name ?? (demo ? 'the demo’s' : null)} onFile={s.setBundleFile} />
        <button type="button" disabled={busy} onClick={() => void s.trainProbe()} title="50 edits per relation, against the original model's matrix">
          Train probe
        </button>
        <button type="button" disabled={!s.probe} onClick={s.saveProbe}>
          Save probe
        </button>
        <label htmlFor="probe-repeats">repeats</label>
        <input id="probe-repeats" type="number" min={1} max={20} value={s.repeats} onChange={(e) => s.setRepeats(Number(e.target.value))} />
        <button type="button" disabled={busy} onClick={() => void s.runTable()}>
          Run Tab. 1
        </button>
      </fieldset>

      <JobStatus job={s} onCancel={s.cancel} prefix="trace" />

      {t && (
        <div className="trace-result" data-testid="trace-result">
          {t.relation && <RelationChart relations={t.relation} />}
          {t.relation && (
            <p data-testid="predicted-relation">
              Predicted relation: <strong>{t.relation[0]!.relation}</strong> “{relationName(t.relation[0]!.relation)}” ({(100 * t.relation[0]!.probability).toFixed(1)}%)
            </p>
          )}
          {t.relation && s.measuredTwoClass !== null && s.measuredTwoClass < 80 && (
            <p className="warning" data-testid="weak-probe">
              This probe is weak on this model: it tells two relations apart {s.measuredTwoClass.toFixed(0)}% of the time (paper Tab. 1; chance 50%, GPT-2 XL 99%). Read its prediction as a hint, not an answer.
            </p>
          )}
          {demoInfo && (
            <p className="known" data-testid="known-trace">
              Known answer (the demo's edit): relation {demoInfo.relation} “{relationName(demoInfo.relation)}”, new object <strong>{demoInfo.newObject}</strong> (was {demoInfo.trueObject}).
            </p>
          )}
          <div className="candidates">
            {t.trainingFree && <CandidateTable testId="readout-candidates" caption={`Likely new object, training-free (relation moved most: ${t.trainingFree.relation})`} scoreLabel="contrast" candidates={t.trainingFree.candidates} format={(v) => v.toFixed(3)} />}
            {t.decoder && <CandidateTable testId="decoder-candidates" caption={`Likely new object, trained decoder (tuned layer ${t.decoder.tunedLayer})`} scoreLabel="probability" candidates={t.decoder.candidates} format={(v) => `${(100 * v).toFixed(1)}%`} />}
          </div>
          <p className="hint">
            Update from {t.updateFrom === 'diff' ? "the exact diff W' − W" : "W' alone (its top singular pair)"}, σ₁ = {t.sigma1.toPrecision(4)}.
          </p>
          {t.notes.map((n) => (
            <p className="note" key={n}>
              {n}
            </p>
          ))}
          <button type="button" onClick={() => saveBlob(new Blob([JSON.stringify(t, null, 2)], { type: 'application/json' }), `trace-layer-${t.layer}.json`)}>
            Export JSON
          </button>
        </div>
      )}

      {s.table && (
        <div data-testid="probe-table-result">
          <ProbeTableChart rows={s.table} />
          <button type="button" onClick={() => saveBlob(new Blob([probeTableCsv(s.table!)], { type: 'text/csv' }), 'relation-probe-table.csv')}>
            Export CSV
          </button>
          <div className="table-scroll"><table data-testid="probe-table">
            <caption>Relation-probe accuracy (%), paper Tab. 1</caption>
            <thead>
              <tr>
                <th scope="col">#classes</th>
                <th scope="col">random</th>
                <th scope="col">probe</th>
              </tr>
            </thead>
            <tbody>
              {s.table.map((r) => (
                <tr key={r.classes}>
                  <td>{r.classes}</td>
                  <td>{r.randomBaseline.toFixed(2)}</td>
                  <td>
                    {r.mean.toFixed(2)} ± {r.std.toFixed(2)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table></div>
        </div>
      )}
    </section>
  );
}
