import { useEffect, useRef, useState } from 'react';
import type { JobFields } from '../state/workerJob';

const clock = (s: number) => (s >= 60 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(0)} s`);

/**
 * A panel's running job (progress, message, elapsed time, an estimate of the time left, Cancel) and its last
 * error, with test ids named by `prefix`. The estimate extrapolates the steps done so far.
 */
export function JobStatus({ job, onCancel, prefix }: { job: JobFields; onCancel: () => void; prefix: string }) {
  const running = job.status === 'running';
  const started = useRef<number | null>(null);
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!running) {
      started.current = null;
      return;
    }
    started.current ??= performance.now();
    const timer = setInterval(() => setNow(performance.now()), 1000);
    return () => clearInterval(timer);
  }, [running]);
  const elapsed = started.current === null ? 0 : Math.max(0, (now - started.current) / 1000);
  const p = job.progress;
  const left = p && p.done > 0 && p.total > p.done ? (elapsed * (p.total - p.done)) / p.done : null;
  return (
    <>
      {running && p && (
        <div className="progress" role="status">
          <progress max={p.total} value={p.done} /> <span data-testid={`${prefix}-progress`}>{p.message}</span>
          <span className="hint" data-testid={`${prefix}-time`}>
            {clock(elapsed)} elapsed{left !== null ? `, about ${clock(left)} left` : ''}
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
