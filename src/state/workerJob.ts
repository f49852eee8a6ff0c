import { ensureTextModel } from './promptStore';
import { useAppStore } from './store';

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
export function workerJob<T extends JobFields>(set: (partial: Partial<T>) => void, get: () => T, initial: () => Partial<T>) {
  return async (work: () => Promise<void>, firstMessage: string): Promise<void> => {
    if (get().status === 'running') return;
    const generation = useAppStore.getState().generation;
    // Work that outlives its model (the user loaded another one meanwhile) leaves nothing behind.
    const stale = () => useAppStore.getState().generation !== generation;
    set({ status: 'running', error: null, progress: { done: 0, total: 1, message: firstMessage } } as Partial<T>);
    try {
      await ensureTextModel();
      if (!stale()) await work();
      set(stale() ? initial() : ({ status: 'idle', progress: null } as Partial<T>));
    } catch (error) {
      set(stale() ? initial() : ({ status: 'error', error: messageOf(error), progress: null } as Partial<T>));
    }
  };
}
