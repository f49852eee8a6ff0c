import { proxy } from 'comlink';
import { create } from 'zustand';
import type { FileInput } from '../analysis/modelInput';
import type { ReversalResult } from '../analysis/reversal';
import type { UniquePredictions } from '../analysis/uniquePredictions';
import { activeLayer, demoInputOnScreen as demoInput, resetOnModelChange, useAppStore } from './store';
import { textWorker } from './textClient';
import { IDLE_JOB, type JobFields, workerJob } from './workerJob';

export interface ReversalState extends JobFields {
  bundleFile: File | null;
  samplesFile: File | null;
  perRelation: number;
  repairK: number;
  result: ReversalResult | null;
  unique: { model: UniquePredictions; original: UniquePredictions | null; samples: number } | null;
  repairMessage: string | null;
  setBundleFile(file: File | null): void;
  setSamplesFile(file: File | null): void;
  setPerRelation(n: number): void;
  setRepairK(k: number): void;
  runReversal(): Promise<void>;
  runUniquePredictions(): Promise<void>;
  downloadRepaired(exact: boolean): Promise<void>;
  cancel(): void;
}


/** Saves a Blob under a file name through a temporary link (the browser's download). */
export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Before any work, and after every model change (results belong to the model they were computed for). */
function initialReversal() {
  return { bundleFile: null, samplesFile: null, perRelation: 10, repairK: 1, ...IDLE_JOB, result: null, unique: null, repairMessage: null };
}

/** The reversal panel's work, run in the language-model worker with progress and cancel. */
export const useReversalStore = create<ReversalState>((set, get) => {
  const fail = (error: string) => {
    if (get().status !== 'running') set({ status: 'error', error });
  };
  const run = workerJob(set, get, initialReversal);
  const job = (work: () => Promise<void>, firstMessage = 'opening the model') => run(work, firstMessage);
  return {
    ...initialReversal(),
    setBundleFile: (bundleFile) => set({ bundleFile }),
    setSamplesFile: (samplesFile) => set({ samplesFile }),
    setPerRelation: (n) => set({ perRelation: Math.max(1, Math.min(1000, Math.round(n) || 1)) }),
    setRepairK: (k) => set({ repairK: Math.max(1, Math.min(15, Math.round(k) || 1)) }),
    cancel: () => void textWorker().cancel(),

    async runReversal() {
      const file = get().bundleFile;
      const bundle: FileInput | null = file ? { kind: 'file', file } : demoInput('edits.safetensors');
      if (!bundle) return fail('Give an edit bundle (safetensors with edit.{i}.u and edit.{i}.lambda; README "Edit bundle format") whose edits are relative to the original model.');
      await job(async () => {
        const result = await textWorker().reversal(
          { bundle, perRelation: get().perRelation },
          proxy((done: number, total: number, text: string) => set({ progress: { done, total, message: text } })),
        );
        set({ result, repairK: Math.max(1, result.bestK) });
      });
    },

    async runUniquePredictions() {
      const file = get().samplesFile;
      const samples: FileInput | null = file ? { kind: 'file', file } : demoInput('neutral-samples.txt');
      if (!samples) return fail('Give a text file of neutral samples (one per line, at least 50 characters each).');
      await job(async () => {
        const unique = await textWorker().uniquePredictions(samples, proxy((text: string) => set({ progress: { done: 0, total: 1, message: text } })));
        set({ unique });
      });
    },

    async downloadRepaired(exact) {
      await job(async () => {
        set({ repairMessage: null });
        const { blob, fileName: stored, mode, sharded } = await textWorker().repairedFile(get().repairK, exact);
        // Named after what it is; a shard keeps its name, which the index refers to.
        const layer = activeLayer(useAppStore.getState());
        const fileName = sharded ? stored : stored.replace(/\.safetensors$/, '') + (mode === 'exact' ? `.exact-repair-layer${layer}.safetensors` : `.repaired-layer${layer}-k${get().repairK}.safetensors`);
        saveBlob(blob, fileName);
        const what = mode === 'exact' ? "the original's matrix" : `W~(r, ${get().repairK})`;
        set({ repairMessage: `Saved ${fileName} (${(blob.size / 1e6).toFixed(1)} MB): identical to the input except this layer, now ${what}.${sharded ? ' Keep the other shards and the index as they are.' : ''}` });
      }, 'writing the repaired checkpoint');
    },
  };
});

resetOnModelChange(useReversalStore, initialReversal);
