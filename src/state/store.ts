import { create } from 'zustand';
import type { BackendInfo, ScanRequest } from '../analysis/analysisSession';
import type { ScanProgress, ScanResult } from '../analysis/scanModel';
import { DEFAULT_SCAN } from '../analysis/scanModel';
import { reportToJson } from '../analysis/scanReport';
import type { EditSpec } from '../analysis/editSpec';
import type { FileInput } from '../analysis/modelInput';
import { analysisWorker, runScan } from './analysisClient';
import { type ComputePreference, parseComputePreference } from '../gpu/computeChoice';
import { type DemoModel, demoBaseUrl, demoFile, demoModelUrl, demoNamed, demoOfModelUrl } from './demoModels';

export type ChartScale = 'linear' | 'log';

/**
 * A URL as the page means it: relative ones (the demo's) resolve against the page, not against the worker
 * script that will fetch them (which lives under assets/).
 */
export function pageUrl(url: string): string {
  try {
    return new URL(url, globalThis.location?.href).toString();
  } catch {
    return url;
  }
}

export type Panel = 'overview' | 'layer' | 'diff' | 'prompt' | 'reverse' | 'trace' | 'edit';

/**
 * The model on screen is one the Edit tab made: its base (a link's model value: "demo" for the demo's base, or
 * a URL; null for local files, which no link can carry) and the edits applied to it, in order.
 */
export interface EditedView {
  base: string | null;
  baseLabel: string;
  edits: EditSpec[];
  /** SHA-256 of the edited tensors' bytes. */
  digest: string;
}

/** The demo's one known edit (its folder's edited/EDIT.json) and the model's size, for the first-visit card. */
export interface DemoInfo {
  /** Which demo (public/<folder>). */
  demo: DemoModel;
  subject: string;
  relation: string;
  prompt: string;
  trueObject: string;
  newObject: string;
  layer: number;
  model: { d_model: number; n_layer: number; d_ff: number; vocab_size: number };
}

export interface Heatmap {
  layer: number;
  start: number;
  count: number;
  values: Float32Array;
}

const fileIds = new WeakMap<File, number>();
let nextFileId = 0;

/** A number per File object: two files with equal names and sizes (an edit and its undo) stay apart. */
export function fileIdentity(file: File): number {
  let id = fileIds.get(file);
  if (id === undefined) {
    id = ++nextFileId;
    fileIds.set(file, id);
  }
  return id;
}

/** The committed demo on screen (no dropped files, a demo's URL), or undefined. */
export function demoOnScreen(s: Pick<AppState, 'modelFiles' | 'modelUrl'>): DemoModel | undefined {
  return s.modelFiles.length === 0 ? demoOfModelUrl(s.modelUrl) : undefined;
}

export function isDemoLoaded(s: Pick<AppState, 'modelFiles' | 'modelUrl'>): boolean {
  return demoOnScreen(s) !== undefined;
}

/** The demo or an edit of it on screen, or undefined: that demo's edit bundle, probe, decoder and samples apply. */
export function demoWorldOnScreen(s: Pick<AppState, 'modelFiles' | 'modelUrl' | 'edited'>): DemoModel | undefined {
  return demoOnScreen(s) ?? demoNamed(s.edited?.base);
}

export function isDemoWorld(s: Pick<AppState, 'modelFiles' | 'modelUrl' | 'edited'>): boolean {
  return demoWorldOnScreen(s) !== undefined;
}

/** A file of the demo on screen (or of the one the edited model started from), as an absolute URL; null if none. */
export function demoFileOnScreen(file: string): string | null {
  const demo = demoWorldOnScreen(useAppStore.getState());
  return demo ? pageUrl(demoFile(demo, file)) : null;
}

/** The same file as a worker input, or null when no demo is on screen. */
export function demoInputOnScreen(file: string): FileInput | null {
  const url = demoFileOnScreen(file);
  return url ? { kind: 'url', url } : null;
}

/** The layer the prompt and reversal panels work on: the selected one, else the first flagged, else 0. */
export function activeLayer(s: Pick<AppState, 'selectedLayer' | 'result'>): number {
  return s.selectedLayer ?? s.result?.report.layers.find((l) => l.flagged)?.layer ?? 0;
}

export interface AppState {
  backend: BackendInfo | null;
  modelFiles: File[];
  originalFiles: File[];
  /** The original by URL (the demo's base, offered for the Diff tab). */
  originalUrl: string;
  modelUrl: string;
  k: number;
  tensorPattern: string;
  rowsAxis: 0 | 1;
  status: 'idle' | 'running' | 'done' | 'error';
  progress: ScanProgress | null;
  error: string | null;
  result: ScanResult | null;
  selectedLayer: number | null;
  panel: Panel;
  scale: ChartScale;
  heatmap: Heatmap | null;
  heatmapBusy: boolean;
  /**
   * Counts model changes (new files, another URL, a new scan). Every panel store resets when it moves:
   * no result on screen may belong to another model than the one on screen.
   */
  generation: number;
  /** Set while the demo is on screen. */
  demo: DemoInfo | null;
  /** Set while the model on screen is the Edit tab's output. */
  edited: EditedView | null;
  demoCardHidden: boolean;
  dismissDemo(): void;

  detectBackend(): Promise<void>;
  /** Applies the page's `?model=` parameter: a demo's name (`demo`, the default; `demo-gptj`, `demo-llama`; with `original=base`, diffed against its base), `none`, or a checkpoint URL. */
  openFromLocation(search: string): Promise<void>;
  /** Puts one of the demo models on screen and scans it (the picker). */
  openDemo(name: DemoModel['name']): Promise<void>;
  setModelFiles(files: File[]): void;
  setOriginalFiles(files: File[]): void;
  /** Scans the demo again with its unedited base as the original: the exact diff per layer. */
  diffDemoWithBase(): Promise<void>;
  setModelUrl(url: string): void;
  /** Puts the Edit tab's output on screen (its original: the model the edits started from) and scans it. */
  showEditedModel(files: File[], original: { files: File[]; url: string }, edited: EditedView): Promise<void>;
  /** Puts a model given by source back on screen (Undo of every edit) and scans it. */
  showModel(model: { files: File[]; url: string; originalFiles: File[]; originalUrl: string }): Promise<void>;
  setK(k: number): void;
  setCustomLayout(pattern: string, rowsAxis: 0 | 1): void;
  /** Scans the model on screen; `keepPanel` stays on the current tab (the Edit tab's own output). */
  scan(options?: { keepPanel?: boolean }): Promise<void>;
  cancel(): void;
  selectLayer(layer: number | null): void;
  setPanel(panel: Panel): void;
  setScale(scale: ChartScale): void;
  loadHeatmap(layer: number, start: number, count: number): Promise<void>;
  dismissError(): void;
  reportJson(): string | null;
}

export const useAppStore = create<AppState>((set, get) => ({
  backend: null,
  modelFiles: [],
  originalFiles: [],
  originalUrl: '',
  modelUrl: '',
  k: DEFAULT_SCAN.k,
  tensorPattern: '',
  rowsAxis: 1,
  status: 'idle',
  progress: null,
  error: null,
  result: null,
  selectedLayer: null,
  panel: 'overview',
  scale: 'linear',
  heatmap: null,
  heatmapBusy: false,
  generation: 0,
  demo: null,
  edited: null,
  demoCardHidden: false,
  dismissDemo: () => set({ demoCardHidden: true }),

  async detectBackend() {
    try {
      set({ backend: await analysisWorker().backendInfo(computePreference()) });
    } catch (error) {
      set({ error: `Could not start the analysis worker: ${messageOf(error)}` });
    }
  },
  async openFromLocation(search) {
    const model = new URLSearchParams(search).get('model') ?? 'demo';
    if (model === 'none') return;
    const demo = demoNamed(model);
    // A build without the demo simply starts empty. Dev and static servers answer a missing file with the
    // app's index.html (status 200), so the demo counts as present only if its config.json parses.
    if (demo && !(await demoPresent(demo))) {
      if (model !== 'demo') set({ status: 'error', error: `This site does not serve the demo model “${model}” (${demo.folder}/ is missing); the others are in the picker.` });
      return;
    }
    // `original=base`: the link was made with the demo diffed against its unedited base.
    const withBase = demo !== undefined && new URLSearchParams(search).get('original') === 'base';
    set({ modelUrl: demo ? demoModelUrl(demo) : model, modelFiles: [], ...(withBase ? { originalUrl: demoBaseUrl(demo) } : {}) });
    if (demo) void loadDemoInfo(demo).then((info) => demoOnScreen(get()) === demo && set({ demo: info }));
    await get().scan();
  },
  async openDemo(name) {
    const demo = demoNamed(name);
    if (!demo || demoOnScreen(get()) === demo) return;
    if (get().status === 'running') get().cancel();
    await waitForIdleScan();
    set({ ...forgetResults(get()), demo: null, edited: null, modelFiles: [], originalFiles: [], originalUrl: '', modelUrl: demoModelUrl(demo), demoCardHidden: false });
    void loadDemoInfo(demo).then((info) => demoOnScreen(get()) === demo && set({ demo: info }));
    await get().scan();
  },
  // Another model leaves the demo (and its card) behind.
  // The original the editor put beside its edited model (the edits' base) belongs to that model: a new one drops it.
  setModelFiles: (files) => set({ ...forgetResults(get()), demo: null, edited: null, originalUrl: '', ...(get().edited ? { originalFiles: [] } : {}), modelFiles: files, modelUrl: files.length ? '' : get().modelUrl }),
  setOriginalFiles: (files) => set({ ...forgetResults(get()), demo: null, edited: null, originalUrl: '', originalFiles: files }),
  setModelUrl: (url) => set(url === get().modelUrl && get().modelFiles.length === 0 ? {} : { ...forgetResults(get()), demo: null, edited: null, originalUrl: '', ...(get().edited ? { originalFiles: [] } : {}), modelFiles: [], modelUrl: url }),
  async showEditedModel(files, original, edited) {
    if (get().status === 'running') get().cancel();
    await waitForIdleScan();
    const panel = get().panel;
    set({ ...forgetResults(get()), demo: null, edited, modelFiles: files, modelUrl: '', originalFiles: original.files, originalUrl: original.url, panel });
    await get().scan({ keepPanel: true });
  },
  async showModel(model) {
    if (get().status === 'running') get().cancel();
    await waitForIdleScan();
    const panel = get().panel;
    set({ ...forgetResults(get()), demo: null, edited: null, modelFiles: model.files, modelUrl: model.url, originalFiles: model.originalFiles, originalUrl: model.originalUrl, panel });
    const demo = model.files.length === 0 ? demoOfModelUrl(model.url) : undefined;
    if (demo) void loadDemoInfo(demo).then((info) => demoOnScreen(get()) === demo && set({ demo: info }));
    await get().scan({ keepPanel: true });
  },
  async diffDemoWithBase() {
    const demo = demoOnScreen(get());
    if (!demo) return;
    set({ originalUrl: demoBaseUrl(demo) });
    await get().scan();
    if (get().result?.report.diff) set({ panel: 'diff' });
  },
  setK: (k) => set({ k }),
  setCustomLayout: (tensorPattern, rowsAxis) => set({ tensorPattern, rowsAxis }),

  async scan(options = {}) {
    const s = get();
    if (s.status === 'running') return;
    const model: ScanRequest['model'] | null = s.modelFiles.length ? { kind: 'files', files: s.modelFiles } : s.modelUrl.trim() ? { kind: 'url', url: pageUrl(s.modelUrl.trim()) } : null;
    if (!model) {
      set({ status: 'error', error: 'Drop the files of a checkpoint, pick them, or give a URL first.' });
      return;
    }
    set({ ...forgetResults(get()), status: 'running', ...(options.keepPanel ? { panel: s.panel } : {}) });
    try {
      const result = await runScan(
        {
          model,
          original: s.originalFiles.length ? { kind: 'files', files: s.originalFiles } : s.originalUrl ? { kind: 'url', url: pageUrl(s.originalUrl) } : null,
          k: s.k,
          oversampling: DEFAULT_SCAN.oversampling,
          powerIterations: DEFAULT_SCAN.powerIterations,
          ...(s.tensorPattern.trim() ? { tensorPattern: s.tensorPattern.trim(), rowsAxis: s.rowsAxis } : {}),
        },
        (progress) => set({ progress }),
      );
      const firstFlagged = result.report.layers.find((l) => l.flagged)?.layer ?? null;
      set({ status: 'done', result, progress: null, selectedLayer: firstFlagged, ...(options.keepPanel ? { panel: get().panel } : {}) });
    } catch (error) {
      const cancelled = error instanceof Error && error.name === 'CancelledError';
      set({ status: cancelled ? 'idle' : 'error', progress: null, error: cancelled ? 'Scan cancelled.' : messageOf(error) });
    }
  },
  cancel() {
    void analysisWorker().cancel();
  },
  selectLayer: (layer) => set({ selectedLayer: layer, panel: layer === null ? 'overview' : 'layer', heatmap: null }),
  setPanel: (panel) => set({ panel }),
  setScale: (scale) => set({ scale }),
  async loadHeatmap(layer, start, count) {
    set({ heatmapBusy: true });
    try {
      const h = await analysisWorker().cosineHeatmap(layer, start, count);
      set({ heatmap: { layer, ...h } });
    } catch (error) {
      set({ error: messageOf(error) });
    } finally {
      set({ heatmapBusy: false });
    }
  },
  dismissError: () => set({ error: null, status: get().result ? 'done' : 'idle' }),
  reportJson: () => {
    const r = get().result;
    return r ? reportToJson(r.report) : null;
  },
}));

/** Resolves once no scan is running (a cancelled one ends within a layer). */
async function waitForIdleScan(): Promise<void> {
  while (useAppStore.getState().status === 'running') await new Promise((r) => setTimeout(r, 20));
}

/** The state of a page that has not scanned its (new) model yet; the generation moves on. */
function forgetResults(s: AppState): Partial<AppState> {
  if (s.status === 'running') return {};
  return { result: null, status: 'idle', progress: null, error: null, heatmap: null, selectedLayer: null, panel: 'overview', generation: s.generation + 1 };
}

/** Resets a panel store to `initial` whenever the model changes (see AppState.generation). */
export function resetOnModelChange<T>(store: { setState(partial: Partial<T>): void }, initial: () => Partial<T>): void {
  useAppStore.subscribe((s, prev) => {
    if (s.generation !== prev.generation) store.setState(initial());
  });
}

/** The link's ?backend= (auto, webgpu or cpu): where heavy work may run. */
export function computePreference(): ComputePreference {
  return parseComputePreference(new URLSearchParams(globalThis.location?.search ?? '').get('backend'));
}

async function loadDemoInfo(demo: DemoModel): Promise<DemoInfo | null> {
  try {
    const [edit, config] = await Promise.all([fetch(demoFile(demo, 'edited/EDIT.json')), fetch(demoFile(demo, 'base/config.json'))].map(async (r) => (await r).json()));
    // Hugging Face names the sizes per family (GPT-2: n_embd, n_inner; GPT-J: n_embd, n_inner; Llama: hidden_size, intermediate_size).
    const dModel = config.n_embd ?? config.hidden_size;
    const model = { d_model: dModel, n_layer: config.n_layer ?? config.num_hidden_layers, d_ff: config.n_inner ?? config.intermediate_size ?? 4 * dModel, vocab_size: config.vocab_size };
    return { demo, subject: edit.subject, relation: edit.relation, prompt: edit.prompt, trueObject: edit.trueObject, newObject: edit.newObject, layer: edit.layer, model };
  } catch {
    return null;
  }
}

async function demoPresent(demo: DemoModel): Promise<boolean> {
  try {
    const response = await fetch(demoFile(demo, 'edited/config.json'));
    return response.ok && typeof (await response.json()) === 'object';
  } catch {
    return false;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
