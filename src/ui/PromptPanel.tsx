import type { Completion } from '../analysis/textModel';
import { usePromptStore } from '../state/promptStore';

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

/**
 * Type a prompt; see the next-token top-5 and a 5-token continuation with the model's matrix, the original's,
 * and the bottom-rank approximation W~(r, k) of the model's (paper Sec. 7).
 */
export function PromptPanel() {
  const { prompt, status, error, info, results, approxK, setPrompt, setApproxK, run } = usePromptStore();
  const busy = status === 'loading' || status === 'running';
  return (
    <section className="prompt-panel" aria-label="prompt panel">
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
      {info && (
        <p className="prompt-info" data-testid="prompt-info">
          {info.family} model, layer {info.layer} swappable, on {info.executionProvider === 'webgpu' ? 'WebGPU' : 'the CPU (wasm)'}, {info.threads} {info.threads === 1 ? 'thread' : 'threads'}
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
