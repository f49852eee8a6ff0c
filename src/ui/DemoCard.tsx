import { RELATIONS } from '../edit/relations';
import { usePromptStore } from '../state/promptStore';
import { useAppStore } from '../state/store';

export function relationName(id: string): string {
  return RELATIONS.find((r) => r.id === id)?.name ?? id;
}

/**
 * What the demo is, shown on first load: a small model of the chosen family trained here on synthetic facts,
 * with one known edit; the links open the views where its traces show.
 */
export function DemoCard() {
  const { demo, demoCardHidden, dismissDemo, setPanel, selectLayer, result, diffDemoWithBase } = useAppStore();
  if (!demo || !result || demoCardHidden) return null;
  const filled = demo.prompt.replace('{}', demo.subject);
  const askPrompt = () => {
    usePromptStore.getState().setPrompt(filled);
    setPanel('prompt');
    void usePromptStore.getState().run();
  };
  return (
    <section className="demo-card" aria-labelledby="demo-card-title" data-testid="demo-card">
      <h2 id="demo-card-title">This is the {demo.demo.label} demo model</h2>
      <p>
        A small {demo.demo.label} (d_model {demo.model.d_model}, {demo.model.n_layer} layers, d_ff {demo.model.d_ff}, {demo.model.vocab_size} words) trained in this project on synthetic facts, then
        edited once at layer {demo.layer} with {demo.demo.editing}: “{filled}” <strong>{demo.trueObject}</strong> → <strong>{demo.newObject}</strong> (relation {demo.relation}, {relationName(demo.relation)}). The page knows
        the answer; the tools below look for it in the weights. For comparison, {demo.demo.paper}.
      </p>
      {!result.report.layers.find((l) => l.layer === demo.layer)?.flagged && (
        <p data-testid="demo-unflagged">
          From its weights alone the verdict does not flag layer {demo.layer}: this edit hides from the tests below (README, “Detection from weights alone”).{' '}
          <button type="button" className="link" onClick={() => void diffDemoWithBase()}>
            Diff against its unedited base
          </button>{' '}
          to see it exactly.
        </p>
      )}
      <p>What to look for:</p>
      <ul>
        <li>
          <button type="button" className="link" onClick={() => setPanel('overview')}>
            All layers
          </button>
          : which layer the verdict flags, and which rule fired.
        </li>
        <li>
          <button type="button" className="link" onClick={() => selectLayer(demo.layer)}>
            Layer {demo.layer}
          </button>
          : the direction split of the estimated u (paper Fig. 2) and the top singular values.
        </li>
        <li>
          <button type="button" className="link" onClick={askPrompt}>
            Prompt
          </button>
          : the edited model says {demo.newObject}, the original matrix {demo.trueObject}; and the approximation without the top singular component?
        </li>
        <li>
          <button type="button" className="link" onClick={() => setPanel('reverse')}>
            Reverse
          </button>
          : how many of the demo’s edits dropping the top singular components undoes, for each k (paper Tab. 2).
        </li>
        <li>
          <button type="button" className="link" onClick={() => setPanel('trace')}>
            Trace
          </button>
          : which relation and which new object the edited matrix points to.
        </li>
      </ul>
      <button type="button" onClick={dismissDemo}>
        Got it
      </button>
    </section>
  );
}
