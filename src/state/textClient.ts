import { type Remote, wrap } from 'comlink';
import type { TextSession } from '../analysis/textSession';

/** The page's language-model worker, created on first use (its runtime is large; scans never load it). */
let remote: Remote<TextSession> | null = null;

export function textWorker(): Remote<TextSession> {
  remote ??= wrap<TextSession>(new Worker(new URL('../workers/text.worker.ts', import.meta.url), { type: 'module', name: 'text' }));
  return remote;
}

/** The worker if it was started (a reset must not start it just to cancel nothing). */
export function startedTextWorker(): Remote<TextSession> | null {
  return remote;
}
