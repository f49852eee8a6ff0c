import { useEffect } from 'react';
import { openSharedLink } from '../state/shareLink';
import { useAppStore } from '../state/store';
import { IsolationStatus } from './IsolationStatus';
import { ShareBar } from './ShareBar';
import { DemoCard } from './DemoCard';
import { DiffView } from './DiffView';
import { EditPanel } from './EditPanel';
import { ErrorBanner } from './ErrorBanner';
import { LayerDetail } from './LayerDetail';
import { LoadPanel } from './LoadPanel';
import { ProgressPanel } from './ProgressPanel';
import { PromptPanel } from './PromptPanel';
import { ResultsPanel } from './ResultsPanel';
import { ReversalPanel } from './ReversalPanel';
import { Glossary } from './TermLabel';
import { TracePanel } from './TracePanel';

export function App() {
  const { backend, detectBackend, result, selectedLayer, panel, setPanel } = useAppStore();
  useEffect(() => {
    void detectBackend();
    void openSharedLink(window.location.search);
  }, [detectBackend]);
  return (
    <div className="app">
      <header>
        <h1>Edit Forensics</h1>
        <p className="tagline">Find rank-one (ROME) knowledge edits in a language model from its weights. Nothing leaves this machine.</p>
        <p className="backend" data-testid="backend">
          {backend === null ? 'Checking for WebGPU…' : backend.kind === 'webgpu' ? `Computing on ${backend.description}` : `Computing on the CPU: ${backend.fallbackReason ?? ''}`}
        </p>
        <IsolationStatus />
      </header>
      <main>
        <ErrorBanner />
        <LoadPanel />
        <ProgressPanel />
        {result && (
          <nav className="tabs" aria-label="views">
            <button type="button" aria-pressed={panel === 'overview'} onClick={() => setPanel('overview')}>
              All layers
            </button>
            <button type="button" aria-pressed={panel === 'layer'} disabled={selectedLayer === null} onClick={() => setPanel('layer')}>
              Layer {selectedLayer ?? ''}
            </button>
            {result.report.diff && (
              <button type="button" aria-pressed={panel === 'diff'} onClick={() => setPanel('diff')}>
                Diff
              </button>
            )}
            <button type="button" aria-pressed={panel === 'prompt'} onClick={() => setPanel('prompt')}>
              Prompt
            </button>
            <button type="button" aria-pressed={panel === 'reverse'} onClick={() => setPanel('reverse')}>
              Reverse
            </button>
            <button type="button" aria-pressed={panel === 'trace'} onClick={() => setPanel('trace')}>
              Trace
            </button>
            <button type="button" aria-pressed={panel === 'edit'} onClick={() => setPanel('edit')}>
              Edit
            </button>
          </nav>
        )}
        <DemoCard />
        {result && <ShareBar />}
        {result && panel === 'overview' && <ResultsPanel result={result} />}
        {result && panel === 'layer' && selectedLayer !== null && <LayerDetail result={result} layer={selectedLayer} />}
        {result && panel === 'diff' && <DiffView result={result} />}
        {result && panel === 'prompt' && <PromptPanel />}
        {result && panel === 'reverse' && <ReversalPanel />}
        {result && panel === 'trace' && <TracePanel />}
        {result && panel === 'edit' && <EditPanel />}
        <Glossary />
      </main>
    </div>
  );
}
