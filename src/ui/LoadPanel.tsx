import { scanOrOpenLink } from '../state/shareLink';
import { type DemoModel, DEMO_MODELS } from '../state/demoModels';
import { demoOnScreen, useAppStore } from '../state/store';
import { FileDropZone } from './FileDropZone';

/** Where a model comes in: dropped or picked files, or a URL; optionally the original; scan options. */
export function LoadPanel() {
  const s = useAppStore();
  const running = s.status === 'running';
  const demo = demoOnScreen(s);
  return (
    <section className="panel" aria-labelledby="load-title">
      <h2 id="load-title">Model</h2>
      <label className="field inline">
        <span>Demo model (the paper’s three families, trained and edited here)</span>
        <select data-testid="demo-picker" value={demo?.name ?? ''} disabled={running} onChange={(e) => e.target.value && void s.openDemo(e.target.value as DemoModel['name'])}>
          {!demo && <option value="">none: a model of yours</option>}
          {DEMO_MODELS.map((d) => (
            <option key={d.name} value={d.name}>
              {d.label} ({d.name})
            </option>
          ))}
        </select>
      </label>
      <div className="load-grid">
        <FileDropZone
          id="model-drop"
          label="Model to examine"
          hint="model.safetensors, or all shards with model.safetensors.index.json; config.json helps"
          files={s.modelFiles}
          onFiles={s.setModelFiles}
        />
        <FileDropZone id="original-drop" label="Original model (optional)" hint="the unedited checkpoint: adds the exact diff" files={s.originalFiles} onFiles={s.setOriginalFiles} />
      </div>
      {demo && (
        <div className="note" data-testid="demo-files">
          <p>
            Loaded: <strong>the {demo.label} demo</strong>, from this site: <span className="mono">{demo.folder}/edited/</span> model.safetensors, config.json, tokenizer.json, tokenizer_config.json.
            Its link: <span className="mono">?model={demo.name}</span>.
          </p>
          <p>
            Its original is the demo’s unedited base (<span className="mono">{demo.folder}/base/</span>): the Prompt, Reverse and Trace tabs compare with it.{' '}
            {s.originalUrl ? (
              'The scan below compares with it too (Diff tab).'
            ) : (
              <button type="button" className="link" disabled={running} onClick={() => void s.diffDemoWithBase()}>
                Diff the layers against it
              </button>
            )}
          </p>
        </div>
      )}
      {s.edited && (
        <div className="note" data-testid="edited-files">
          <p>
            Loaded: <strong>the Edit tab’s output</strong>: {s.edited.edits.length} edit{s.edited.edits.length === 1 ? '' : 's'} of {s.edited.baseLabel}, made on this page (Edit tab).
          </p>
          <p>Its original is {s.edited.baseLabel}: the scan compares with it (Diff tab), and so do the Prompt, Reverse and Trace tabs.</p>
        </div>
      )}
      <label className="field">
        <span>…or a URL (read with HTTP Range, only the tensors needed)</span>
        <input
          type="url"
          data-testid="model-url"
          placeholder="https://host/path/model.safetensors"
          value={s.modelUrl}
          disabled={s.modelFiles.length > 0}
          onChange={(e) => s.setModelUrl(e.target.value)}
        />
      </label>
      <details>
        <summary>Options</summary>
        <label className="field inline">
          <span>Singular values per layer (k)</span>
          <input type="number" min={1} max={64} value={s.k} onChange={(e) => s.setK(Math.max(1, Math.min(64, Number(e.target.value) || 1)))} />
        </label>
        <label className="field">
          <span>Unknown layout: MLP output tensor name with {'{i}'} for the layer</span>
          <input type="text" placeholder="model.layers.{i}.mlp.down_proj.weight" value={s.tensorPattern} onChange={(e) => s.setCustomLayout(e.target.value, s.rowsAxis)} />
        </label>
        <label className="field inline">
          <span>Stored as</span>
          <select value={s.rowsAxis} onChange={(e) => s.setCustomLayout(s.tensorPattern, Number(e.target.value) as 0 | 1)}>
            <option value={0}>[d_ff, d_model] (GPT-2 Conv1D)</option>
            <option value={1}>[d_model, d_ff] (nn.Linear)</option>
          </select>
        </label>
      </details>
      <div className="actions">
        <button type="button" className="primary" disabled={running} onClick={scanOrOpenLink}>
          Scan for edits
        </button>
      </div>
    </section>
  );
}
