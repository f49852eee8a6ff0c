import { proxy } from 'comlink';
import { create } from 'zustand';
import type { ModelInput } from '../analysis/modelInput';
import type { ScanResult } from '../analysis/scanModel';
import type { Completion } from '../analysis/textModel';
import type { TextModelInfo } from '../analysis/textSession';
import { demoBaseUrl } from './demoModels';
import { activeLayer, computePreference, demoOnScreen, fileIdentity, pageUrl, resetOnModelChange, useAppStore } from './store';
import { startedTextWorker, textWorker } from './textClient';

export interface PromptState {
  prompt: string;
  status: 'idle' | 'loading' | 'running' | 'error';
  error: string | null;
  info: TextModelInfo | null;
  /** The inputs and layer the worker's session was opened with. */
  openedFor: string | null;
  /** k of the approximated column W~(r, k) (paper Sec. 7); 0 hides it. */
  approxK: number;
  results: { model: Completion; original: Completion | null; approximated: Completion | null } | null;
  /** While the language model opens: weight bytes stored of about `total`, and the step (a large model takes a minute). */
  opening: { done: number; total: number; message: string } | null;
  setPrompt(prompt: string): void;
  setApproxK(k: number): void;
  run(): Promise<void>;
  cancelOpening(): void;
}

/** The loaded model, its original (the demo's base for the demo) and the layer to run, from the app state. */
function currentInputs(): { model: ModelInput; original: ModelInput | null; layer: number; key: string } | null {
  const app = useAppStore.getState();
  const model: ModelInput | null = app.modelFiles.length ? { kind: 'files', files: app.modelFiles } : app.modelUrl.trim() ? { kind: 'url', url: pageUrl(app.modelUrl.trim()) } : null;
  if (!model) return null;
  const demo = demoOnScreen(app);
  const originalUrl = app.originalUrl || (demo ? demoBaseUrl(demo) : '');
  const original: ModelInput | null = app.originalFiles.length ? { kind: 'files', files: app.originalFiles } : originalUrl ? { kind: 'url', url: pageUrl(originalUrl) } : null;
  const layer = activeLayer(app);
  // Files by identity: the Edit tab's outputs share names and sizes.
  const key = JSON.stringify([app.modelFiles.map(fileIdentity), app.modelUrl, app.originalFiles.map(fileIdentity), originalUrl, layer]);
  return { model, original, layer, key };
}

/**
 * Opens the loaded model in the language-model worker unless it is open already (same files, same layer);
 * the prompt panel and the reversal panel share that session.
 */
export async function ensureTextModel(): Promise<TextModelInfo> {
  const inputs = currentInputs();
  if (!inputs) throw new Error('Load a model first.');
  const state = usePromptStore.getState();
  if (state.openedFor === inputs.key && state.info) return state.info;
  // One opening per model, however many panels ask at once.
  if (opening?.key !== inputs.key) {
    usePromptStore.setState({ openedFor: null, info: null, results: null, opening: null });
    const current = () => opening?.key === inputs.key;
    const promise: Promise<TextModelInfo> = (async () => {
      await textWorker().setPreference(computePreference());
      const info = await textWorker().open(
        { model: inputs.model, original: inputs.original, layer: inputs.layer },
        proxy((done: number, total: number, message: string) => {
          if (current()) usePromptStore.setState({ opening: { done, total, message } });
        }),
      );
      if (current()) usePromptStore.setState({ info, openedFor: inputs.key });
      return info;
    })();
    opening = { key: inputs.key, promise };
    promise.catch(() => undefined).finally(() => {
      if (opening?.promise === promise) {
        opening = null;
        usePromptStore.setState({ opening: null });
      }
    });
  }
  return opening.promise;
}

let opening: { key: string; promise: Promise<TextModelInfo> } | null = null;

/** Runs a prompt on the loaded model (and on its original's matrix when the original was given). */
export const usePromptStore = create<PromptState>((set, get) => ({
  prompt: '',
  status: 'idle',
  error: null,
  info: null,
  openedFor: null,
  approxK: 1,
  results: null,
  opening: null,
  setPrompt: (prompt) => set({ prompt }),
  setApproxK: (k) => set({ approxK: Math.max(0, Math.min(15, Math.round(k))) }),
  async run() {
    const prompt = get().prompt.trim();
    if (!prompt) {
      set({ status: 'error', error: 'Type a prompt first.' });
      return;
    }
    if (!currentInputs()) {
      set({ status: 'error', error: 'Load a model first.' });
      return;
    }
    const generation = useAppStore.getState().generation;
    const stale = () => useAppStore.getState().generation !== generation;
    try {
      set({ status: 'loading', error: null });
      const info = await ensureTextModel();
      set({ status: 'running', error: null });
      const worker = textWorker();
      const k = get().approxK;
      const modelAnswer = await worker.complete(prompt, 'model', { topK: 5, tokens: 5 });
      const originalAnswer = info.hasOriginal ? await worker.complete(prompt, 'original', { topK: 5, tokens: 5 }) : null;
      const approximated = k > 0 ? await worker.complete(prompt, { approximatedK: k }, { topK: 5, tokens: 5 }) : null;
      if (!stale()) set({ status: 'idle', results: { model: modelAnswer, original: originalAnswer, approximated } });
    } catch (error) {
      const cancelled = error instanceof Error && error.name === 'CancelledError';
      if (!stale()) set({ status: 'error', error: cancelled ? 'Cancelled: the model was not opened; Run opens it again.' : error instanceof Error ? error.message : String(error), openedFor: null });
    }
  },
  /** Stops the model's opening (between two weights; nothing of it is kept). */
  cancelOpening: () => void startedTextWorker()?.cancel(),
}));

// A new model: forget the answers and the opened session, and stop whatever the worker was doing for the old one.
resetOnModelChange(usePromptStore, () => {
  opening = null;
  void startedTextWorker()?.cancel();
  return { status: 'idle' as const, error: null, info: null, openedFor: null, results: null, opening: null };
});

/**
 * Models whose runtime takes at most this much open in the background once a scan is done, so the first Prompt
 * answer needs no loading (the demos take a few MB). A larger one opens at the first prompt, as the Prompt tab
 * says: a scan must not leave gigabytes held that nobody asked for (measured: a GPT-2 XL-sized F16 file grew
 * the page by 0.4 GB within 3 s of its scan, on its way to the 8 GB its runtime takes).
 */
const BACKGROUND_OPEN_MAX_BYTES = 256 * 2 ** 20;

/** Whether a scanned model opens in the language-model worker before anyone asks (small, and not refused). */
function opensInBackground(runNeeds: ScanResult['runNeeds']): boolean {
  return runNeeds.pageRefusal === null && runNeeds.plan.bytes <= BACKGROUND_OPEN_MAX_BYTES;
}

// A model without a tokenizer simply stays closed until asked.
useAppStore.subscribe((s, prev) => {
  if (s.status === 'done' && prev.status !== 'done' && s.result && opensInBackground(s.result.runNeeds)) void ensureTextModel().catch(() => undefined);
});
