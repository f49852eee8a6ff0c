import type { JobFields } from '../state/workerJob';

/** A panel's running job (progress, message, Cancel) and its last error, with test ids named by `prefix`. */
export function JobStatus({ job, onCancel, prefix }: { job: JobFields; onCancel: () => void; prefix: string }) {
  return (
    <>
      {job.status === 'running' && job.progress && (
        <div className="progress" role="status">
          <progress max={job.progress.total} value={job.progress.done} /> <span data-testid={`${prefix}-progress`}>{job.progress.message}</span>{' '}
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
