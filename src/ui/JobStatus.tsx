import type { JobFields } from '../state/workerJob';
import { elapsedText, useElapsedSeconds } from './elapsedTime';

/**
 * A panel's running job (progress, message, elapsed time, an estimate of the time left, Cancel) and its last
 * error, with test ids named by `prefix`. The estimate extrapolates the steps done so far.
 */
export function JobStatus({ job, onCancel, prefix }: { job: JobFields; onCancel: () => void; prefix: string }) {
  const running = job.status === 'running';
  const elapsed = useElapsedSeconds(running);
  const p = job.progress;
  return (
    <>
      {running && p && (
        <div className="progress" role="status">
          <progress max={p.total} value={p.done} /> <span data-testid={`${prefix}-progress`}>{p.message}</span>
          <span className="hint" data-testid={`${prefix}-time`}>
            {elapsedText(elapsed, p.total > 0 ? p.done / p.total : 0)}
          </span>
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        </div>
      )}
      {job.error && (
        <p className="error" role="alert" data-testid={`${prefix}-error`}>
          {job.error}
        </p>
      )}
    </>
  );
}
