import { proxy } from 'comlink';
import { create } from 'zustand';
import type { FileInput } from '../analysis/modelInput';
import { parseProbe } from '../analysis/relationProbeFile';
import { PAPER_TABLE_1, type ProbeTableRow } from '../analysis/relationProbeTable';
import type { TraceResult } from '../analysis/traceModel';
import { saveBlob } from './reversalStore';
import { demoFileOnScreen, demoInputOnScreen as demoInput, demoWorldOnScreen, resetOnModelChange, useAppStore } from './store';
import { textWorker } from './textClient';
import { IDLE_JOB, type JobFields, messageOf, workerJob } from './workerJob';

export interface LoadedProbe {
  name: string;
  text: string;
  relations: number;
  layer: number;
  trainedOn: string;
}

export interface TraceState extends JobFields {
  bundleFile: File | null;
  decoderFile: File | null;
  probe: LoadedProbe | null;
  repeats: number;
  table: ProbeTableRow[] | null;
  trace: TraceResult | null;
  /** The probe's measured accuracy for 2 classes (this session's Tab. 1, or the demo's report), if known. */
  measuredTwoClass: number | null;
  setBundleFile(file: File | null): void;
  setDecoderFile(file: File | null): void;
  setRepeats(n: number): void;
  loadProbeFile(file: File): Promise<void>;
  saveProbe(): void;
  runTable(): Promise<void>;
  trainProbe(): Promise<void>;
  runTrace(): Promise<void>;
  cancel(): void;
}

const demoOnScreen = () => demoWorldOnScreen(useAppStore.getState());

function describeProbe(name: string, text: string): LoadedProbe {
  const p = parseProbe(name, text);
  return { name, text, relations: p.model.relations.length, layer: p.layer, trainedOn: `${p.trainedOn.bundle} (${p.trainedOn.editsPerRelation} edits per relation)` };
}

/** Tab. 1 as CSV: one row per class count. */
export function probeTableCsv(rows: readonly ProbeTableRow[]): string {
  return ['classes,random_baseline,mean,std,accuracies', ...rows.map((r) => `${r.classes},${r.randomBaseline.toFixed(2)},${r.mean.toFixed(2)},${r.std.toFixed(2)},${r.accuracies.map((a) => a.toFixed(2)).join(' ')}`)].join('\n') + '\n';
}

/** Before any work, and after every model change: a probe or decoder of one model is no answer for another. */
function initialTrace() {
  return { bundleFile: null, decoderFile: null, probe: null, repeats: PAPER_TABLE_1.repeats, ...IDLE_JOB, table: null, trace: null, measuredTwoClass: null };
}

/** The Trace tab's work (paper Sec. 5-6), run in the language-model worker with progress and cancel. */
export const useTraceStore = create<TraceState>((set, get) => {
  const job = workerJob(set, get, initialTrace);
  const bundle = (): FileInput | null => {
    const file = get().bundleFile;
    return file ? { kind: 'file', file } : demoInput('edits.safetensors');
  };
  const noBundle = () => set({ status: 'error', error: 'Give an edit bundle (README "Edit bundle format"): its edits train and test the probe.' });
  const onProgress = proxy((done: number, total: number, text: string) => set({ progress: { done, total, message: text } }));
  return {
    ...initialTrace(),
    setBundleFile: (bundleFile) => set({ bundleFile }),
    setDecoderFile: (decoderFile) => set({ decoderFile }),
    setRepeats: (n) => set({ repeats: Math.max(1, Math.min(20, Math.round(n) || 1)) }),
    cancel: () => void textWorker().cancel(),

    async loadProbeFile(file) {
      try {
        if (file.size > 200_000_000) throw new Error(`${file.name}: over 200 MB, not a probe file`);
        set({ probe: describeProbe(file.name, await file.text()), error: null, status: 'idle' });
      } catch (error) {
        set({ status: 'error', error: messageOf(error) });
      }
    },

    saveProbe() {
      const p = get().probe;
      if (p) saveBlob(new Blob([p.text], { type: 'application/json' }), p.name.endsWith('.json') ? p.name : 'relation-probe.json');
    },

    async runTable() {
      const input = bundle();
      if (!input) return noBundle();
      await job(async () => {
        const table = await textWorker().probeTable(input, { ...PAPER_TABLE_1, repeats: get().repeats }, onProgress);
        set({ table, measuredTwoClass: table.find((r) => r.classes === 2)?.mean ?? null });
      }, 'reading the edit bundle');
    },

    async trainProbe() {
      const input = bundle();
      if (!input) return noBundle();
      await job(async () => {
        const text = await textWorker().trainProbe(input, PAPER_TABLE_1.trainPerRelation);
        set({ probe: describeProbe('relation-probe.json', text) });
      }, 'training the probe');
    },

    async runTrace() {
      await job(async () => {
        let probe = get().probe;
        const demo = demoOnScreen();
        if (!probe && demo) {
          const response = await fetch(demoFileOnScreen('relation-probe.json') as string);
          // A server without the file may answer with the app's index.html: only a parseable probe counts.
          if (response.ok) probe = describeProbe(`${demo.folder} relation-probe.json`, await response.text());
          // The demo's probe was measured by `npm run experiment:trace` (paper Tab. 1).
          const report = await fetch(demoFileOnScreen('trace-report.json') as string).then((r) => (r.ok ? r.json() : null)).catch(() => null);
          const two = (report?.relationProbe?.rows as { classes: number; mean: number }[] | undefined)?.find((r) => r.classes === 2)?.mean;
          set({ probe, ...(typeof two === 'number' && get().measuredTwoClass === null ? { measuredTwoClass: two } : {}) });
        }
        const file = get().decoderFile;
        const decoder: FileInput | null = file ? { kind: 'file', file } : demoInput('object-decoder.safetensors');
        const trace = await textWorker().trace({ probe: probe ? { name: probe.name, text: probe.text } : null, decoder }, proxy((text: string) => set({ progress: { done: 0, total: 1, message: text } })));
        set({ trace });
      }, 'tracing');
    },
  };
});

resetOnModelChange(useTraceStore, initialTrace);
