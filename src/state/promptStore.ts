import { create } from 'zustand';
import type { ModelInput } from '../analysis/modelInput';
import type { Completion } from '../analysis/textModel';
import type { TextModelInfo } from '../analysis/textSession';
import { DEMO_MODEL_URL, useAppStore } from './store';
import { textWorker } from './textClient';

export interface PromptState {
  prompt: string;
  status: 'idle' | 'loading' | 'running' | 'error';
  error: string | null;
  info: TextModelInfo | null;
  /** The inputs and layer the worker's session was opened with. */
  openedFor: string | null;
  results: { model: Completion; original: Completion | null } | null;
  setPrompt(prompt: string): void;
  run(): Promise<void>;
}

/** Runs a prompt on the loaded model (and on its original's matrix when the original was given). */
export const usePromptStore = create<PromptState>((set, get) => ({
  prompt: '',
  status: 'idle',
  error: null,
  info: null,
  openedFor: null,
  results: null,
  setPrompt: (prompt) => set({ prompt }),
  async run() {
    const app = useAppStore.getState();
    const prompt = get().prompt.trim();
    if (!prompt) {
      set({ status: 'error', error: 'Type a prompt first.' });
      return;
    }
    const model: ModelInput | null = app.modelFiles.length ? { kind: 'files', files: app.modelFiles } : app.modelUrl.trim() ? { kind: 'url', url: app.modelUrl.trim() } : null;
    if (!model) {
      set({ status: 'error', error: 'Load a model first.' });
      return;
    }
    const original: ModelInput | null = app.originalFiles.length ? { kind: 'files', files: app.originalFiles } : app.modelUrl.trim() === DEMO_MODEL_URL ? { kind: 'url', url: 'demo/base/model.safetensors' } : null;
    const layer = app.selectedLayer ?? app.result?.report.layers.find((l) => l.flagged)?.layer ?? 0;
    const key = JSON.stringify([app.modelFiles.map((f) => `${f.name}:${f.size}`), app.modelUrl, app.originalFiles.map((f) => `${f.name}:${f.size}`), layer]);
    try {
      if (get().openedFor !== key) {
        set({ status: 'loading', error: null, results: null });
        const info = await textWorker().open({ model, original, layer });
        set({ info, openedFor: key });
      }
      set({ status: 'running', error: null });
      const worker = textWorker();
      const modelAnswer = await worker.complete(prompt, 'model', { topK: 5, tokens: 5 });
      const originalAnswer = get().info?.hasOriginal ? await worker.complete(prompt, 'original', { topK: 5, tokens: 5 }) : null;
      set({ status: 'idle', results: { model: modelAnswer, original: originalAnswer } });
    } catch (error) {
      set({ status: 'error', error: error instanceof Error ? error.message : String(error), openedFor: null });
    }
  },
}));
