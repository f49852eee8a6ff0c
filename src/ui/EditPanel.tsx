import { useEffect, useMemo } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { EditCheck } from '../analysis/editChecks';
import type { EditOutcome } from '../analysis/editSession';
import { positionOf, STRENGTH_STEPS, strengthAt, useEditStore } from '../state/editStore';
import { useAppStore } from '../state/store';
import { COLORS } from './chartColors';
import { FilePicker } from './FilePicker';
import { HistogramChart } from './HistogramChart';
import { JobStatus } from './JobStatus';
import { LayerChart } from './LayerChart';
import { TermLabel } from './TermLabel';

const percent = (x: number) => `${(100 * x).toFixed(1)}%`;

/** v*'s loss per step, drawn as the search runs. */
function LossChart({ losses }: { losses: number[] }) {
  const data = losses.map((loss, i) => ({ step: i + 1, loss }));
  return (
    <figure className="chart" data-testid="loss-chart">
      <figcaption>
        <TermLabel term="vStar">v*</TermLabel> loss per step
      </figcaption>
      <ResponsiveContainer width="100%" height={180}>
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 16, left: 8 }}>
          <CartesianGrid stroke={COLORS.grid} />
          <XAxis dataKey="step" allowDecimals={false} label={{ value: 'step', position: 'insideBottom', offset: -8 }} />
          <YAxis width={48} tickFormatter={(v: number) => v.toFixed(1)} />
          <Tooltip formatter={(v) => Number(v).toFixed(4)} labelFormatter={(l) => `step ${l}`} />
          <Line type="monotone" dataKey="loss" stroke={COLORS.normal} dot={false} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}

/** The edit prompt, paraphrases and neighbours before and after: efficacy, generalisation, specificity. */
function ChecksTable({ checks }: { checks: EditCheck[] }) {
  const share = (kind: EditCheck['kind']) => {
    const list = checks.filter((c) => c.kind === kind);
    return list.length ? `${list.filter((c) => c.ok).length} of ${list.length}` : null;
  };
  const summary = [['efficacy', share('edit prompt')], ['generalisation (paraphrases)', share('paraphrase')], ['specificity (neighbours unchanged)', share('neighbour')]].filter(([, v]) => v !== null);
  return (
    <>
      <p data-testid="edit-summary">{summary.map(([k, v]) => `${k}: ${v}`).join(' · ')}</p>
      <div className="table-scroll">
        <table className="layers checks" data-testid="edit-checks">
          <thead>
            <tr>
              <th>check</th>
              <th>prompt</th>
              <th>before</th>
              <th>after</th>
              <th>expected</th>
              <th>ok</th>
            </tr>
          </thead>
          <tbody>
            {checks.map((c) => (
              <tr key={`${c.kind}:${c.prompt}`} className={c.ok ? '' : 'flagged'}>
                <td>{c.kind}</td>
                <td className="prompt-cell">{c.prompt}</td>
                <td>
                  {c.before.token} ({percent(c.before.probability)})
                </td>
                <td>
                  {c.after.token} ({percent(c.after.probability)})
                </td>
                <td>{c.expected}</td>
                <td>{c.ok ? '✓' : '✗'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

/** s in W + s u lambda^T: the signature and the answer follow as the slider moves. */
function StrengthControl({ last }: { last: EditOutcome }) {
  const { strength, setStrength, answer, shownStrength } = useEditStore();
  const app = useAppStore();
  const layer = last.spec.settings.layer;
  // Nothing of another strength is shown as this one's.
  const current = shownStrength === strength && app.status === 'done';
  const index = current ? (app.result?.report.layers.findIndex((l) => l.layer === layer) ?? -1) : -1;
  const row = index >= 0 ? app.result?.report.layers[index] : undefined;
  const detail = index >= 0 ? app.result?.details[index] : undefined;
  return (
    <fieldset data-testid="strength">
      <legend>
        Edit <TermLabel term="strength">strength</TermLabel>
      </legend>
      <label className="field inline strength-field">
        <span>
          s = <output data-testid="strength-value">{strength}</output>
        </span>
        <input
          type="range"
          min={0}
          max={STRENGTH_STEPS}
          value={positionOf(strength)}
          aria-label="edit strength s (log scale, 0 and 0.01 to 100)"
          aria-valuetext={`s = ${strength}`}
          onChange={(e) => setStrength(strengthAt(Number(e.target.value)))}
        />
      </label>
      <span className="hint">
        {[0, 0.1, 1, 10, 30, 100].map((s) => (
          <button key={s} type="button" className="link strength-preset" onClick={() => setStrength(s)}>
            s = {s}
          </button>
        ))}
      </span>
      <dl className="stats" data-testid="strength-stats">
        <dt>next token after “{last.spec.prompt.replace('{}', last.spec.subject)}”</dt>
        <dd data-testid="strength-answer">{!current ? 'computing…' : answer ? `${answer.token} (${percent(answer.probability)}; ${last.spec.target} ${percent(answer.targetProbability)})` : `${last.checks[0]?.after.token ?? ''} (${percent(last.checks[0]?.after.probability ?? 0)}, the edit as made)`}</dd>
        <dt>
          layer {layer}: <TermLabel term="pcs">pcs</TermLabel>
        </dt>
        <dd>{current ? (row?.pcs?.toExponential(3) ?? '–') : 'scanning…'}</dd>
        <dt>
          <TermLabel term="sigmaRatio">σ1/σ2</TermLabel>
        </dt>
        <dd>{detail?.sigmaRatio?.toFixed(3) ?? '–'}</dd>
        <dt>
          <TermLabel term="sameDirection">same direction</TermLabel>
        </dt>
        <dd>{row?.sameDirectionFraction !== undefined && row.sameDirectionFraction !== null ? percent(row.sameDirectionFraction) : '–'}</dd>
        <dt>verdict</dt>
        <dd>{row ? (row.flagged ? 'flagged as edited' : 'not flagged') : '–'}</dd>
      </dl>
      {app.result && current && (
        <div className="chart-row">
          <LayerChart title="pcs per layer" term="pcs" testId="edit-pcs-chart" scale="log" selected={layer} onSelect={() => undefined} points={app.result.report.layers.map((l) => ({ layer: l.layer, value: l.pcs, flagged: l.flagged }))} />
          <LayerChart title="σ1/σ2 per layer" term="sigmaRatio" testId="edit-sigma-chart" scale="linear" selected={layer} onSelect={() => undefined} points={app.result.report.layers.map((l, i) => ({ layer: l.layer, value: app.result?.details[i]?.sigmaRatio ?? null, flagged: l.flagged }))} />
        </div>
      )}
      {detail && <HistogramChart title={`Layer ${layer}: entries of the estimated u`} histogram={detail.uHistogram} testId="edit-direction-histogram" />}
    </fieldset>
  );
}

/** The Edit tab: choose a fact and a new object, run ROME here, and study the edited model in every tab. */
export function EditPanel() {
  const s = useEditStore();
  const app = useAppStore();
  const busy = s.status === 'running';
  const facts = s.info?.facts ?? null;
  const last = s.edits[s.edits.length - 1];
  // Open the model in the editor when the tab is shown (a new model resets the editor).
  const { generation } = app;
  const { prepare } = s;
  useEffect(() => void prepare(), [generation, prepare]);
  const subjectFacts = useMemo(() => (facts ? facts.facts.filter((f) => f.subject === s.form.subject.trim()) : []), [facts, s.form.subject]);
  const subjects = useMemo(() => (facts ? [...new Set(facts.facts.map((f) => f.subject))] : []), [facts]);
  const relation = facts?.relations.find((r) => r.templates.includes(s.form.prompt));
  const info = s.info;
  const layers = info ? Array.from({ length: info.layers }, (_, i) => i) : [];
  return (
    <section className="panel edit-panel" aria-label="edit panel">
      <h2>Edit a fact with ROME, here</h2>
      <p className="hint">
        ROME (Meng et al. 2022) as published, on this page’s CPU: k* from the subject, v* by gradient steps, one rank-one update W + u·λᵀ of the layer’s MLP output matrix. The edited model then becomes the model under study: every tab works on it, and the Diff tab compares it with the model the edits started from.
      </p>
      {s.base && (
        <p className="hint" data-testid="edit-base">
          Edits start from <strong>{s.base.label}</strong>
          {info && ` (${info.layers} layers, d_model ${info.dModel}, d_ff ${info.dFF}, ${(info.parameters / 1e6).toFixed(2)}M parameters)`}. <TermLabel term="mom2">C</TermLabel>: {s.base.covariance}
          {info?.corpus && ` (${info.corpus.sentences} sentences, ${info.corpus.tokens} tokens)`}.
        </p>
      )}
      <form
        className="edit-form"
        onSubmit={(e) => {
          e.preventDefault();
          void s.edit();
        }}
      >
        <label className="field">
          <span>Subject</span>
          <input type="text" list="edit-subjects" value={s.form.subject} onChange={(e) => s.setForm({ subject: e.target.value })} placeholder={facts ? 'type to search the demo’s subjects' : 'e.g. Eiffel Tower'} data-testid="edit-subject" />
          <datalist id="edit-subjects">
            {subjects.map((x) => (
              <option key={x} value={x} />
            ))}
          </datalist>
        </label>
        {subjectFacts.length > 0 && (
          <div className="table-scroll">
            <table className="layers subject-facts" data-testid="subject-facts" aria-label={`what the model knows of ${s.form.subject}`}>
              <caption>What the base model knows of {s.form.subject}: choose a fact to change</caption>
              <tbody>
                {subjectFacts.map((f) => {
                  const r = facts?.relations.find((x) => x.id === f.relation);
                  return (
                    <tr key={f.relation}>
                      <td>{r?.name ?? f.relation}</td>
                      <td>{f.object}</td>
                      <td>
                        <button type="button" className="link" onClick={() => s.setForm({ prompt: r?.templates[0] ?? s.form.prompt, target: r?.objects.find((o) => o !== f.object) ?? '' })}>
                          change this fact
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        <label className="field">
          <span>Prompt ({'{}'} where the subject goes; the new object follows it)</span>
          <input type="text" list="edit-templates" value={s.form.prompt} onChange={(e) => s.setForm({ prompt: e.target.value })} placeholder="The mother tongue of {} is" data-testid="edit-prompt" />
          <datalist id="edit-templates">
            {(facts?.relations ?? []).flatMap((r) => r.templates.map((t) => <option key={t} value={t} label={r.name} />))}
          </datalist>
        </label>
        <label className="field">
          <span>New object (one token of the vocabulary)</span>
          <input type="text" list="edit-objects" value={s.form.target} onChange={(e) => s.setForm({ target: e.target.value })} placeholder="English" data-testid="edit-target" />
          <datalist id="edit-objects">
            {(relation?.objects ?? []).map((o) => (
              <option key={o} value={o} />
            ))}
          </datalist>
        </label>
        <details className="edit-options">
          <summary>ROME settings (defaults as published)</summary>
          <div className="option-grid">
            <label className="field">
              <span>layer</span>
              <select value={s.form.layer ?? info?.defaultLayer ?? 0} onChange={(e) => s.setForm({ layer: Number(e.target.value) })} data-testid="edit-layer">
                {layers.map((l) => (
                  <option key={l} value={l}>
                    {l}
                    {l === info?.defaultLayer ? ' (default)' : ''}
                  </option>
                ))}
              </select>
            </label>
            <label className="field inline">
              <input type="checkbox" checked={s.form.mom2Adjustment} onChange={(e) => s.setForm({ mom2Adjustment: e.target.checked })} data-testid="edit-mom2" />
              <span>
                <TermLabel term="mom2">mom2 adjustment</TermLabel> (u = C⁻¹k*)
              </span>
            </label>
            <label className="field">
              <span>
                <TermLabel term="vStar">v*</TermLabel> steps
              </span>
              <input type="number" min={1} max={200} value={s.form.vSteps} onChange={(e) => s.setForm({ vSteps: Number(e.target.value) })} />
            </label>
            <label className="field">
              <span>v* learning rate</span>
              <input type="number" min={0.01} max={10} step={0.01} value={s.form.vLr} onChange={(e) => s.setForm({ vLr: Number(e.target.value) })} />
            </label>
            <label className="field">
              <span>
                <TermLabel term="contextTemplates">context templates</TermLabel>
              </span>
              <input type="text" value={s.form.contextTemplates ?? info?.defaultContextTemplates ?? ''} onChange={(e) => s.setForm({ contextTemplates: e.target.value })} data-testid="edit-templates" />
            </label>
            <FilePicker id="corpus-input" label="Text for C…" accept=".txt,text/plain" chosen={s.corpusFile?.name ?? null} onFile={(f) => s.setCorpusFile(f)} />
          </div>
        </details>
        <div className="actions">
          <button type="submit" className="primary" disabled={busy} data-testid="edit-run">
            Edit
          </button>{' '}
          <button type="button" disabled={busy || s.edits.length === 0} onClick={() => void s.undo()} data-testid="edit-undo">
            Undo last edit
          </button>
        </div>
      </form>
      <JobStatus job={s} onCancel={s.cancel} prefix="edit" />
      {s.losses.length > 0 && <LossChart losses={s.losses} />}
      {s.edits.length > 0 && (
        <>
          <h3>
            {s.edits.length} edit{s.edits.length === 1 ? '' : 's'} applied, in order
          </h3>
          <ol className="edit-list" data-testid="edit-list">
            {s.edits.map((e, i) => (
              <li key={i}>
                “{e.spec.prompt.replace('{}', e.spec.subject)}” → <strong>{e.spec.target}</strong> at layer {e.spec.settings.layer}
                {e.spec.settings.mom2Adjustment ? '' : ', mom2 off'}
                {e.spec.settings.strength !== 1 ? `, s = ${e.spec.settings.strength}` : ''} · {e.steps} v* steps, loss {e.finalLoss.toFixed(3)}, u {percent(e.uSameSign)} one sign, {e.seconds.toFixed(1)} s
              </li>
            ))}
          </ol>
          {last && <ChecksTable checks={last.checks} />}
          {last && <StrengthControl last={last} />}
          <p className="hint" data-testid="edit-digest">
            Weights fingerprint (SHA-256 of the edited tensors): <code>{app.edited?.digest.slice(0, 16) ?? s.digest?.slice(0, 16)}</code>
            {app.edited?.base === null ? ' · edits of local files: no link can carry them' : ' · the address bar is a link that recomputes these weights'}
          </p>
          <div className="actions">
            <button type="button" onClick={() => void s.downloadCheckpoint()} data-testid="download-edited">
              Download the edited checkpoint
            </button>{' '}
            <button type="button" onClick={() => void s.downloadBundle()} data-testid="download-edits">
              Download the edits (edit bundle)
            </button>
          </div>
        </>
      )}
    </section>
  );
}
