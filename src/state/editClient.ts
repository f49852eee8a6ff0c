import { type Remote, wrap } from 'comlink';
import type { EditSession } from '../analysis/editSession';

/** The page's editor worker, created on first use (ROME runs there, off the UI thread). */
let remote: Remote<EditSession> | null = null;

export function editWorker(): Remote<EditSession> {
  remote ??= wrap<EditSession>(new Worker(new URL('../workers/edit.worker.ts', import.meta.url), { type: 'module', name: 'edit' }));
  return remote;
}

/** The worker if it was started (a reset must not start it just to cancel nothing). */
export function startedEditWorker(): Remote<EditSession> | null {
  return remote;
}
