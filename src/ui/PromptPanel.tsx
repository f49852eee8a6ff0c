import type { Completion } from '../analysis/textModel';
import type { ScanResult } from '../analysis/scanModel';
import { RELATIONS } from '../edit/relations';
import { usePromptStore } from '../state/promptStore';
import { useAppStore } from '../state/store';
import { formatBytes } from '../lm/modelNeeds';
import { JobStatus } from './JobStatus';

function Answer({ title, completion }: { title: string; completion: Completion }) {
  return (
    <section className="answer" aria-label={title}>
      <h3>{title}</h3>
      <ol className="top-tokens">
        {completion.top.map((t) => (
          <li key={t.id}>
            <span className="token">{t.token}</span> <span className="probability">{(100 * t.probability).toFixed(1)}%</span>
          </li>
        ))}
      </ol>
      <p className="continuation">
        Greedy continuation: <q data-testid="continuation">{completion.continuation}</q>
      </p>
    </section>
  );
}

/** What running the model takes, before it is loaded: memory, where, and how its weights are held. */
function runNeedsSentence(runNeeds: ScanResult['runNeeds']): string {
  const { needs, plan, executionProvider } = runNeeds;
  const parameters = `${(needs.parameters / 1e6).toFixed(needs.parameters < 1e7 ? 1 : 0)} M parameters ${plan.keepsHalf ? 'with its 16-bit weights kept as stored' : 'as float32'}`;
  const where = executionProvider === 'webgpu' ? 'of GPU memory (WebGPU does not say how much this GPU has: if it has less, opening fails with an error)' : "in the page's WebAssembly runtime";
  return `Running this model takes about ${formatBytes(plan.bytes)} ${where} (${parameters}); the model opens at the first prompt.`;
}

/**
 * Type a prompt; see the next-token top-5 and a 5-token continuation with the model's matrix, the original's,
 * and the bottom-rank approximation W~(r, k) of the model's (paper Sec. 7).
 */
export function PromptPanel() {
  const { prompt, status, error, info, results, approxK, opening, setPrompt, setApproxK, run, cancelOpening } = usePromptStore();
  const demo = useAppStore((s) => s.demo);
  const runNeeds = useAppStore((s) => s.result?.runNeeds ?? null);
  const busy = status === 'loading' || status === 'running';
  // The demo's edited fact in each of its relation's templates: prompts whose answer the page knows.
  const examples = demo ? (RELATIONS.find((r) => r.id === demo.relation)?.templates ?? [demo.prompt]).map((t) => t.replace('{}', demo.subject)) : [];
  const known = demo && examples.includes(prompt.trim());
  const unknown = results?.model.unknownWords ?? [];
  return (
    <section className="panel prompt-panel" aria-label="prompt panel">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <label htmlFor="prompt-input">Prompt</label>
        <input id="prompt-input" type="text" value={prompt} onChange={(e) => setPrompt(e.target.value)} placeholder="The mother tongue of … is" />
        <label htmlFor="approx-k">approximated: drop top k</label>
        <input id="approx-k" type="number" min={0} max={15} value={approxK} onChange={(e) => setApproxK(Number(e.target.value))} title="W~(r, k): the matrix without its top k singular components (0: no approximated column)" />
        <button type="submit" disabled={busy}>
          {status === 'loading' ? 'Loading the model…' : status === 'running' ? 'Running…' : 'Run'}
        </button>
      </form>
      {examples.length > 0 && (
        <label className="field inline">
          <span>Try the demo's edited fact</span>
          <select
            data-testid="demo-prompts"
            value={examples.includes(prompt.trim()) ? prompt.trim() : ''}
            onChange={(e) => {
              setPrompt(e.target.value);
              if (e.target.value) void run();
            }}
          >
            <option value="">choose a prompt…</option>
            {examples.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
      )}
      {known && demo && (
        <p className="known" data-testid="known-answer">
          Known answer (the demo's edit): before the edit the model said <strong>{demo.trueObject}</strong>; ROME changed it to <strong>{demo.newObject}</strong> at layer {demo.layer}.
        </p>
      )}
      {unknown.length > 0 && (
        <p className="warning" role="status" data-testid="unknown-words">
          The tokenizer does not know {unknown.map((w) => `“${w}”`).join(', ')}: the model read {unknown.length === 1 ? 'it' : 'them'} as an unknown token, so its answer says nothing about {unknown.length === 1 ? 'that word' : 'those words'}.
          {examples.length > 0 ? ' Pick one of the demo’s prompts above.' : ''}
        </p>
      )}
      {runNeeds && !info && (
        <p className={runNeeds.pageRefusal ? 'warning' : 'prompt-info'} role={runNeeds.pageRefusal ? 'status' : undefined} data-testid="run-needs">
          {runNeeds.pageRefusal
            ? `This model ${runNeeds.pageRefusal}.`
            : runNeedsSentence(runNeeds)}
        </p>
      )}
      {/* Opening a large model takes a minute: what is read so far, the time, an estimate and Cancel while Run waits. */}
      <JobStatus job={{ status: status === 'loading' && opening ? 'running' : 'idle', progress: opening, error: null }} onCancel={cancelOpening} prefix="prompt-opening" />
      {info && (
        <p className="prompt-info" data-testid="prompt-info">
          {info.family} model, layer {info.layer} swappable, on {info.executionProvider === 'webgpu' ? 'WebGPU' : info.executionProvider === 'cpu' ? 'the CPU (native)' : 'the CPU (wasm)'}, {info.threads} {info.threads === 1 ? 'thread' : 'threads'}
          {info.hasOriginal ? '; the original matrix is compared side by side.' : '; give the original to compare.'}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {results && (
        <div className="answers">
          <Answer title={info?.hasOriginal ? 'Loaded model (edited)' : 'Loaded model'} completion={results.model} />
          {results.original && <Answer title="Original matrix" completion={results.original} />}
          {results.approximated && <Answer title={`Approximated (top ${approxK} dropped)`} completion={results.approximated} />}
        </div>
      )}
    </section>
  );
}
