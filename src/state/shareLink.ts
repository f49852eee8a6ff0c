import { type EditSpec, editsFromParam, editsToParam } from '../analysis/editSpec';
import { modelOrigin } from '../workers/contentSecurityPolicy';
import { useEditStore } from './editStore';
import { usePromptStore } from './promptStore';
import { useReversalStore } from './reversalStore';
import { useTraceStore } from './traceStore';
import { demoBaseUrl, demoOfModelUrl } from './demoModels';
import { type ChartScale, computePreference, type Panel, useAppStore } from './store';

/**
 * Share links: the page's URL carries the view (model source, layer, panel, k, prompt, chart scale), kept
 * up to date as the user moves around, so the address bar is always a link that reopens the same view.
 * Local files cannot travel in a link: for them there is no link, and the page says why.
 */
export interface SharedView {
  /** A demo's name ('demo', 'demo-gptj', 'demo-llama'), 'none' or an http(s) URL of a checkpoint. */
  model: string;
  layer: number | null;
  panel: Panel;
  k: number | null;
  prompt: string;
  scale: ChartScale;
}

const PANELS: readonly Panel[] = ['overview', 'layer', 'diff', 'prompt', 'reverse', 'trace', 'edit'];
export const MAX_SHARED_PROMPT = 500;

function intParam(p: URLSearchParams, name: string, max: number): number | null {
  const raw = p.get(name);
  if (raw === null || !/^\d{1,6}$/.test(raw)) return null;
  const v = Number(raw);
  return v <= max ? v : null;
}

/** Parses a link's query; anything malformed falls back to the default (a link is untrusted input). */
export function parseSharedView(search: string): SharedView {
  const p = new URLSearchParams(search);
  const panel = p.get('panel') as Panel | null;
  const scale = p.get('scale');
  return {
    model: p.get('model') ?? 'demo',
    layer: intParam(p, 'layer', 100_000),
    panel: panel && PANELS.includes(panel) ? panel : 'overview',
    k: intParam(p, 'k', 15),
    prompt: (p.get('prompt') ?? '').slice(0, MAX_SHARED_PROMPT),
    scale: scale === 'log' ? 'log' : 'linear',
  };
}

/** The current view as a query string, or null when the model comes from local files (not shareable). */
export function currentViewQuery(): string | null {
  const app = useAppStore.getState();
  const p = new URLSearchParams();
  if (app.edited) {
    // The Edit tab's output travels as its base and its edits: opening the link recomputes the weights.
    if (app.edited.base === null) return null;
    p.set('model', app.edited.base);
    p.set('edits', editsToParam(app.edited.edits));
  } else {
    if (app.modelFiles.length > 0 || app.originalFiles.length > 0) return null;
    const url = app.modelUrl.trim();
    const demo = demoOfModelUrl(url);
    p.set('model', url === '' ? 'none' : (demo?.name ?? url));
    // A demo diffed against its own base: the link says so, and a fresh page diffs it again.
    if (demo && app.originalUrl === demoBaseUrl(demo)) p.set('original', 'base');
  }
  if (app.selectedLayer !== null) p.set('layer', String(app.selectedLayer));
  if (app.panel !== 'overview') p.set('panel', app.panel);
  const prompt = usePromptStore.getState();
  if (app.panel === 'reverse') p.set('k', String(useReversalStore.getState().repairK));
  else if (app.panel === 'prompt') {
    p.set('k', String(prompt.approxK));
    if (prompt.prompt.trim()) p.set('prompt', prompt.prompt.trim().slice(0, MAX_SHARED_PROMPT));
  }
  if (app.scale !== 'linear') p.set('scale', app.scale);
  const backend = computePreference();
  if (backend !== 'auto') p.set('backend', backend);
  return `?${p.toString()}`;
}

/** Why there is no link for the current model (null when there is one). */
export function unshareableReason(): string | null {
  const app = useAppStore.getState();
  if (app.edited?.base === null) {
    return 'These edits were made to files from your disk, and a link cannot carry the files (nothing leaves this machine). Download the edited checkpoint or the edits (Edit tab) instead.';
  }
  if (!app.edited && (app.modelFiles.length > 0 || app.originalFiles.length > 0)) {
    return 'This view uses files from your disk, and a link cannot carry them (nothing leaves this machine). Share the files themselves, or host them and open the app with ?model=<url>.';
  }
  return null;
}

/** After the model is open: the layer, panel, k, prompt and scale of the link (recomputing what they show). */
export async function applySharedView(view: SharedView): Promise<void> {
  const app = useAppStore.getState();
  app.setScale(view.scale);
  const layers = app.result?.report.layers.map((l) => l.layer) ?? [];
  if (view.layer !== null && layers.includes(view.layer)) app.selectLayer(view.layer);
  if (view.panel === 'diff' && !app.result?.report.diff) return;
  if (view.panel !== 'layer' || useAppStore.getState().selectedLayer !== null) app.setPanel(view.panel);
  if (view.k !== null) {
    usePromptStore.getState().setApproxK(view.k);
    if (view.k >= 1) useReversalStore.getState().setRepairK(view.k);
  }
  if (view.prompt) usePromptStore.getState().setPrompt(view.prompt);
  // Recompute what the linked view shows (its controls alone would show nothing).
  if (view.panel === 'prompt' && view.prompt) await usePromptStore.getState().run();
  if (view.panel === 'trace') await useTraceStore.getState().runTrace();
  if (view.panel === 'reverse') await useReversalStore.getState().runReversal();
}

/** Keeps the address bar equal to the current view's link (replaceState: no history entry per click). */
export function syncAddressBar(): () => void {
  let last = '';
  const update = () => {
    // Local files cannot travel in a link: the address then opens an empty page, never a model not on screen.
    const backend = computePreference();
    const query = currentViewQuery() ?? `?model=none${backend === 'auto' ? '' : `&backend=${backend}`}`;
    if (query === last) return;
    last = query;
    history.replaceState(history.state, '', `${location.pathname}${query}${location.hash}`);
  };
  const unsubscribe = [useAppStore.subscribe(update), usePromptStore.subscribe(update), useReversalStore.subscribe(update)];
  return () => unsubscribe.forEach((u) => u());
}

/**
 * Opens the link's model, restores its view, then keeps the address bar in step. A link with edits opens
 * their base in the editor and applies them (ROME is deterministic: the same weights, bit for bit).
 */
export function openSharedLink(search: string): Promise<void> {
  // Once per page and link: a second call (React runs a mount effect twice in development) joins the first
  // instead of replaying the link's edits a second time on the same editor.
  if (opening?.search !== search) opening = { search, done: openLink(search) };
  return opening.done;
}

let opening: { search: string; done: Promise<void> } | null = null;

async function openLink(search: string): Promise<void> {
  const view = parseSharedView(search);
  const editsParam = new URLSearchParams(search).get('edits');
  let edits: EditSpec[] | null = null;
  if (editsParam !== null && view.model !== 'none') {
    try {
      edits = editsFromParam(editsParam);
    } catch (error) {
      useAppStore.setState({ error: `${error instanceof Error ? error.message : String(error)}: the link's model is opened without its edits.` });
    }
  }
  if (edits && edits.length > 0) {
    await useEditStore.getState().replay(view.model, edits);
    if (useAppStore.getState().edited) await applySharedView(view);
  } else {
    await useAppStore.getState().openFromLocation(search);
    await applySharedView(view);
  }
  syncAddressBar();
}

/**
 * Scans the model as given. A URL on another origin than the page's and the link's is opened by navigating
 * to its link instead: the page's Content-Security-Policy admits exactly the model origin of its own link.
 */
export function scanOrOpenLink(): void {
  const app = useAppStore.getState();
  const url = app.modelUrl.trim();
  if (app.modelFiles.length === 0 && url !== '' && !demoOfModelUrl(url)) {
    const target = modelOrigin(`?model=${encodeURIComponent(url)}`, location.origin);
    if (target !== null && target !== modelOrigin(location.search, location.origin)) {
      location.assign(`${location.pathname}?model=${encodeURIComponent(url)}`);
      return;
    }
  }
  void app.scan();
}
