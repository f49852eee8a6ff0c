import { useAppStore } from '../state/store';

export function ProgressPanel() {
  const { status, progress, cancel } = useAppStore();
  if (status !== 'running') return null;
  const pct = Math.round((progress?.fraction ?? 0) * 100);
  return (
    <section className="panel progress" aria-live="polite">
      <progress max={100} value={pct} aria-label="scan progress" />
      <span data-testid="progress-message">
        {pct}% — {progress?.message ?? 'starting'}
      </span>
      <button type="button" onClick={cancel}>
        Cancel
      </button>
    </section>
  );
}
