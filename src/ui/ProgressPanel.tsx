import { useAppStore } from '../state/store';
import { elapsedText, useElapsedSeconds } from './elapsedTime';

export function ProgressPanel() {
  const { status, progress, cancel } = useAppStore();
  // A scan of a multi-GB model is long: the time so far and an estimate of the rest, from the share done.
  const elapsed = useElapsedSeconds(status === 'running');
  if (status !== 'running') return null;
  const pct = Math.round((progress?.fraction ?? 0) * 100);
  return (
    <section className="panel progress" aria-live="polite">
      <progress max={100} value={pct} aria-label="scan progress" />
      <span data-testid="progress-message">
        {pct}% — {progress?.message ?? 'starting'}
      </span>
      <span className="hint" data-testid="progress-time">
        {elapsedText(elapsed, progress?.fraction ?? 0)}
      </span>
      <button type="button" onClick={cancel}>
        Cancel
      </button>
    </section>
  );
}
