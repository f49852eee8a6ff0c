import { proxy } from 'comlink';
import { create } from 'zustand';
import type { TokenGuess } from '../analysis/editChecks';
import type { EditModelInfo, EditOutcome, EditProgress, EditSource } from '../analysis/editSession';
import { checkEditSpec, type EditSpec } from '../analysis/editSpec';
import { editWorker, startedEditWorker } from './editClient';
import { saveBlob } from './reversalStore';
import { type DemoModel, DEMO_MODELS, demoBaseUrl, demoModelUrl, demoNamed, demoOfBaseUrl } from './demoModels';
import { demoOnScreen, fileIdentity, pageUrl, useAppStore } from './store';
import { IDLE_JOB, type JobFields, messageOf } from './workerJob';

/** Where edits start: the model, the text of C, and what the page shows before and after. */
export interface EditBase {
  key: string;
  label: string;
  /** The link's model value ("demo": the demo's unedited base; or a URL); null for local files. */
  link: string | null;
  source: EditSource;
  /** The edited model's original: the base itself (the Diff tab then shows the edits exactly). */
  original: { files: File[]; url: string };
  /** What was on screen before the first edit: Undo of every edit brings it back. */
  previous: { files: File[]; url: string; originalFiles: File[]; originalUrl: string };
  /** Where C comes from, in words. */
  covariance: string;
}

export interface EditForm {
  subject: string;
  prompt: string;
  target: string;
  /** null: the model's default (the demo's edit layer, or ROME's depth for the size). */
  layer: number | null;
  mom2Adjustment: boolean;
  vSteps: number;
  vLr: number;
  /** null: the model's default. */
  contextTemplates: string | null;
}

export interface EditState extends JobFields {
  base: EditBase | null;
  info: EditModelInfo | null;
  form: EditForm;
  corpusFile: File | null;
  /** The running (or last) edit's v* loss per step. */
  losses: number[];
  edits: EditOutcome[];
  /** s of the last edit (W + s u lambda^T). */
  strength: number;
  /** The edit prompt's answer at that strength. */
  answer: TokenGuess | null;
  /** The strength whose model is on screen (scanned); the slider may be ahead of it. */
  shownStrength: number | null;
  digest: string | null;
  setForm(partial: Partial<EditForm>): void;
  setCorpusFile(file: File | null): void;
  prepare(): Promise<void>;
  edit(): Promise<void>;
  undo(): Promise<void>;
  setStrength(strength: number): void;
  cancel(): void;
  /** A link's edits: opens the base, applies them in order, shows the result. */
  replay(model: string, specs: readonly EditSpec[]): Promise<void>;
  downloadCheckpoint(): Promise<void>;
  downloadBundle(): Promise<void>;
}

const demoFile = (name: string, demo: DemoModel = DEMO_MODELS[0] as DemoModel) => ({ kind: 'url' as const, url: pageUrl(`${demo.folder}/${name}`) });

/** Shortest time between two progress repaints while ROME runs. */
const PROGRESS_INTERVAL_MS = 125;

/**
 * A demo's base, with its C (precomputed where the demo ships mom2-stats.safetensors, else computed over its
 * corpus; or over the user's text) and its facts.
 */
function demoBase(demo: DemoModel, corpusFile: File | null): EditBase {
  const precomputed = !corpusFile && demo.mom2Stats;
  return {
    key: JSON.stringify([demo.name, corpusFile ? fileIdentity(corpusFile) : null]),
    label: `the ${demo.label} demo’s unedited base (${demo.folder}/base/)`,
    link: demo.name,
    source: {
      model: { kind: 'url', url: pageUrl(demoBaseUrl(demo)) },
      corpus: corpusFile ? { kind: 'file', file: corpusFile } : demoFile('mom2-corpus.txt', demo),
      stats: precomputed ? demoFile('mom2-stats.safetensors', demo) : null,
      facts: demoFile('facts.json', demo),
    },
    original: { files: [], url: demoBaseUrl(demo) },
    previous: { files: [], url: demoModelUrl(demo), originalFiles: [], originalUrl: '' },
    covariance: corpusFile
      ? `computed over ${corpusFile.name}`
      : precomputed
        ? 'precomputed over the demo’s corpus (mom2-corpus.txt), as ROME ships its Wikipedia statistics'
        : `computed over the demo’s corpus (${demo.folder}/mom2-corpus.txt)`,
  };
}

/** The model on screen as an editing base (the demo edits from its unedited base). */
function baseOnScreen(corpusFile: File | null): EditBase | null {
  const app = useAppStore.getState();
  const demo = demoOnScreen(app) ?? (app.modelFiles.length === 0 ? demoOfBaseUrl(app.modelUrl) : undefined);
  if (demo) return demoBase(demo, corpusFile);
  const corpus = corpusFile ? { kind: 'file' as const, file: corpusFile } : demoFile('mom2-corpus.txt');
  const covariance = corpusFile ? `computed over ${corpusFile.name}` : COVARIANCE_FROM_DEMO_TEXT;
  const previous = { files: app.modelFiles, url: app.modelUrl, originalFiles: app.originalFiles, originalUrl: app.originalUrl };
  if (app.modelFiles.length) {
    return {
      key: JSON.stringify(['files', app.modelFiles.map(fileIdentity), corpusFile ? fileIdentity(corpusFile) : null]),
      label: app.modelFiles.map((f) => f.name).join(', '),
      link: null,
      source: { model: { kind: 'files', files: app.modelFiles }, corpus, stats: null, facts: null },
      original: { files: app.modelFiles, url: '' },
      previous,
      covariance,
    };
  }
  const url = app.modelUrl.trim();
  return url ? urlBase(url, corpusFile, previous) : null;
}

/** A model by URL as an editing base (C over the user's text, else the demo's corpus). */
function urlBase(url: string, corpusFile: File | null, previous: EditBase['previous']): EditBase {
  return {
    key: JSON.stringify(['url', url, corpusFile ? fileIdentity(corpusFile) : null]),
    label: url,
    link: url,
    source: { model: { kind: 'url', url: pageUrl(url) }, corpus: corpusFile ? { kind: 'file', file: corpusFile } : demoFile('mom2-corpus.txt'), stats: null, facts: null },
    original: { files: [], url },
    previous,
    covariance: corpusFile ? `computed over ${corpusFile.name}` : COVARIANCE_FROM_DEMO_TEXT,
  };
}

const COVARIANCE_FROM_DEMO_TEXT = 'computed over the demo’s corpus (mom2-corpus.txt): this model has none of its own here; give a text file of its kind of text for a faithful C';

function initialEdit() {
  return { ...IDLE_JOB, base: null, info: null, losses: [], edits: [], strength: 1, answer: null, shownStrength: null, digest: null };
}

const EMPTY_FORM: EditForm = { subject: '', prompt: '', target: '', layer: null, mom2Adjustment: true, vSteps: 20, vLr: 0.5, contextTemplates: null };

/** The Edit tab: ROME in the editor worker, its output put on screen as the model under study. */
export const useEditStore = create<EditState>((set, get) => {
  /** Opens `base` in the worker unless it is open already. */
  const open = async (base: EditBase) => {
    if (get().base?.key === base.key && get().info) return;
    const previous = get().info;
    set({ ...initialEdit(), status: 'running', progress: { done: 0, total: 1, message: `opening ${base.label} in the editor` } });
    const info = await editWorker().open(base.source);
    const form = get().form;
    // On the demo the form starts with its known edit (reproduce it, then change it).
    const demo = useAppStore.getState().demo;
    const start = !form.subject && !form.prompt && !form.target && demo && base.link === demo.demo.name ? { subject: demo.subject, prompt: demo.prompt, target: demo.newObject } : {};
    // ROME's setting as published for the family (Llama: no mom2 adjustment, 25 v* steps), unless the user chose one.
    const defaults = previous ? { mom2Adjustment: previous.defaultMom2Adjustment, vSteps: previous.defaultVSteps } : EMPTY_FORM;
    const untouched = form.mom2Adjustment === defaults.mom2Adjustment && form.vSteps === defaults.vSteps;
    const published = untouched ? { mom2Adjustment: info.defaultMom2Adjustment, vSteps: info.defaultVSteps } : {};
    set({ base, info, form: { ...form, ...start, ...published, layer: form.layer !== null && form.layer < info.layers ? form.layer : null } });
  };

  /** Puts the worker's current model on screen (and scans it). */
  const install = async () => {
    const base = get().base;
    if (!base) return;
    const edits = await editWorker().edits();
    if (edits.length === 0) {
      set({ digest: null, answer: null, strength: 1 });
      await useAppStore.getState().showModel(base.previous);
      return;
    }
    const { files, digest } = await editWorker().editedCheckpoint();
    set({ digest, edits });
    await useAppStore.getState().showEditedModel(files, base.original, { base: base.link, baseLabel: base.label, edits: edits.map((e) => e.spec), digest });
  };

  const fail = (error: unknown) => {
    const cancelled = error instanceof Error && (error.name === 'CancelledError' || error.message.includes('cancelled'));
    set({ status: cancelled ? 'idle' : 'error', error: cancelled ? null : messageOf(error), progress: null });
  };

  const specFromForm = (): EditSpec => {
    const { form, info } = get();
    if (!info) throw new Error('the editor has no model open');
    return checkEditSpec(
      {
        subject: form.subject,
        prompt: form.prompt,
        target: form.target,
        settings: { layer: form.layer ?? info.defaultLayer, mom2Adjustment: form.mom2Adjustment, vSteps: form.vSteps, vLr: form.vLr, strength: 1, contextTemplates: form.contextTemplates ?? info.defaultContextTemplates },
      },
      'edit form',
      info.layers,
    );
  };

  const runEdit = async (spec: EditSpec, label: string) => {
    set({ losses: [], progress: { done: 0, total: spec.settings.vSteps, message: `${label}: starting` } });
    // At most ~8 repaints a second: on a 2-core machine each repaint (chart, progress) takes CPU from the worker.
    let pending: EditProgress | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const show = () => {
      timer = null;
      if (pending) set({ losses: pending.losses, progress: { done: pending.done, total: pending.total, message: `${label}: ${pending.message}` } });
      pending = null;
    };
    const onProgress = (p: EditProgress) => {
      pending = p;
      timer ??= setTimeout(show, PROGRESS_INTERVAL_MS);
    };
    try {
      await editWorker().edit(spec, proxy(onProgress));
    } finally {
      if (timer) clearTimeout(timer);
      show();
    }
  };

  // The strength slider: the latest value wins; one application at a time.
  let strengthTimer: ReturnType<typeof setTimeout> | null = null;
  let applying = false;
  const applyStrength = async () => {
    if (applying) return;
    applying = true;
    try {
      for (let applied = NaN; applied !== get().strength; ) {
        applied = get().strength;
        const answer = await editWorker().setStrength(applied);
        set({ answer: null });
        await install();
        set({ answer, shownStrength: applied });
      }
    } catch (error) {
      fail(error);
    } finally {
      applying = false;
    }
  };

  return {
    ...initialEdit(),
    form: EMPTY_FORM,
    corpusFile: null,
    setForm: (partial) => set({ form: { ...get().form, ...partial } }),
    setCorpusFile: (corpusFile) => set({ corpusFile }),

    async prepare() {
      if (get().status === 'running' || useAppStore.getState().edited) return;
      const base = baseOnScreen(get().corpusFile);
      if (!base) return;
      try {
        await open(base);
        set({ status: 'idle', progress: null });
      } catch (error) {
        fail(error);
      }
    },

    async edit() {
      if (get().status === 'running') return;
      try {
        if (!useAppStore.getState().edited) {
          const base = baseOnScreen(get().corpusFile);
          if (!base) throw new Error('Load a model first.');
          await open(base);
        }
        const spec = specFromForm();
        set({ status: 'running', error: null });
        await runEdit(spec, `edit ${get().edits.length + 1}`);
        set({ strength: 1, answer: null, shownStrength: null, progress: { done: 1, total: 1, message: 'scanning the edited model' } });
        await install();
        set({ status: 'idle', progress: null, shownStrength: 1 });
      } catch (error) {
        fail(error);
      }
    },

    async undo() {
      if (get().status === 'running' || get().edits.length === 0) return;
      try {
        set({ status: 'running', error: null, progress: { done: 0, total: 1, message: 'taking back the last edit' } });
        set({ edits: await editWorker().undo(), strength: 1, answer: null, shownStrength: null, losses: [] });
        await install();
        set({ status: 'idle', progress: null, shownStrength: 1 });
      } catch (error) {
        fail(error);
      }
    },

    setStrength(strength) {
      set({ strength });
      if (strengthTimer) clearTimeout(strengthTimer);
      strengthTimer = setTimeout(() => void applyStrength(), 250);
    },

    cancel: () => void startedEditWorker()?.cancel(),

    async replay(model, specs) {
      if (get().status === 'running') return;
      const app = useAppStore.getState();
      app.setPanel('edit');
      const linked = demoNamed(model);
      const base = linked ? demoBase(linked, null) : urlBase(model, null, { files: [], url: model, originalFiles: [], originalUrl: '' });
      try {
        set({ status: 'running', error: null });
        await open(base);
        for (const [i, spec] of specs.entries()) {
          checkEditSpec(spec, `link, edit ${i + 1}`, get().info?.layers);
          await runEdit(spec, `edit ${i + 1} of ${specs.length} from the link`);
        }
        set({ progress: { done: 1, total: 1, message: 'scanning the edited model' } });
        await install();
        const last = specs[specs.length - 1];
        set({ status: 'idle', progress: null, strength: last?.settings.strength ?? 1, shownStrength: last?.settings.strength ?? 1 });
      } catch (error) {
        fail(error);
      }
    },

    async downloadCheckpoint() {
      try {
        const { files, digest, changed } = await editWorker().editedCheckpoint();
        for (const f of files) if (changed.includes(f.name)) saveBlob(f, f.name.replace(/\.safetensors$/, `.edited-${get().edits.length}-${digest.slice(0, 8)}.safetensors`));
      } catch (error) {
        fail(error);
      }
    },

    async downloadBundle() {
      try {
        const bytes = await editWorker().bundle();
        saveBlob(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }), `edits-${get().edits.length}.safetensors`);
      } catch (error) {
        fail(error);
      }
    },
  };
});

// Another model on screen (not the editor's own output): the editor's session and edits belong to the old one.
useAppStore.subscribe((s, prev) => {
  if (s.generation !== prev.generation && !s.edited && useEditStore.getState().base && !(s.modelFiles === prev.modelFiles && s.modelUrl === prev.modelUrl)) {
    void startedEditWorker()?.cancel();
    useEditStore.setState(initialEdit());
  }
});

/** The strength slider's 0-1000 positions: 0 is s = 0, then s from 0.01 to 100 on a log scale. */
export const STRENGTH_STEPS = 1000;
export function strengthAt(position: number): number {
  if (position <= 0) return 0;
  return Number((10 ** (-2 + (4 * Math.min(position, STRENGTH_STEPS)) / STRENGTH_STEPS)).toPrecision(3));
}
export function positionOf(strength: number): number {
  if (strength <= 0) return 0;
  return Math.round(((Math.log10(strength) + 2) / 4) * STRENGTH_STEPS);
}
