import { ensureTextModel } from './promptStore';

/** The fields every panel store keeps for its work in the language-model worker. */
export interface JobFields {
  status: 'idle' | 'running' | 'error';
  progress: { done: number; total: number; message: string } | null;
  error: string | null;
}

/** A panel store's job fields before any work. */
export const IDLE_JOB: JobFields = { status: 'idle', progress: null, error: null };

export const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * One piece of worker work at a time for a panel store: opens the model if needed, shows progress from
 * `firstMessage` on, and reports failure in the store instead of throwing.
 */
export function workerJob<T extends JobFields>(set: (partial: Partial<JobFields>) => void, get: () => T) {
  return async (work: () => Promise<void>, firstMessage: string): Promise<void> => {
    if (get().status === 'running') return;
    set({ status: 'running', error: null, progress: { done: 0, total: 1, message: firstMessage } });
    try {
      await ensureTextModel();
      await work();
      set({ status: 'idle', progress: null });
    } catch (error) {
      set({ status: 'error', error: messageOf(error), progress: null });
    }
  };
}
