import { parseTemplateLengths } from '../edit/contextTemplates';
import { ROME_DEFAULTS } from '../edit/rome';
import { FormatError } from '../formats/formatError';

/** ROME's settings the Edit tab and the CLI expose (the rest stay as published). */
export interface EditSettings {
  layer: number;
  /** u = C^-1 k* (ROME as published for GPT-2 XL and GPT-J) or u = k* (EasyEdit's Llama 3). */
  mom2Adjustment: boolean;
  vSteps: number;
  vLr: number;
  /** s in W + s u lambda^T (1: the edit as ROME makes it). */
  strength: number;
  /** ROME's context_template_length_params as "length x count,..." (published for GPT-2 XL: 5x10,10x10). */
  contextTemplates: string;
}

/** One edit as a link or a bundle carries it: enough to recompute it bit for bit. */
export interface EditSpec {
  subject: string;
  /** Contains "{}" where the subject goes; the new object follows it. */
  prompt: string;
  target: string;
  settings: EditSettings;
}

export const PUBLISHED_CONTEXT_TEMPLATES = '5x10,10x10';
export const DEFAULT_EDIT_SETTINGS: Omit<EditSettings, 'layer'> = { mom2Adjustment: true, vSteps: ROME_DEFAULTS.vSteps, vLr: ROME_DEFAULTS.vLr, strength: 1, contextTemplates: PUBLISHED_CONTEXT_TEMPLATES };
export const MAX_STRENGTH = 100;
export const MAX_V_STEPS = 200;
export const MAX_EDITS = 20;
const MAX_TEXT = 300;

/**
 * ROME's layer for a model of `layers` layers when nothing says otherwise: kmeng01/rome edits GPT-2 XL at
 * 17 of 48, GPT-2 large at 12 of 36, GPT-2 medium at 8 of 24: about 35% of the depth.
 */
export function romeDefaultLayer(layers: number): number {
  return Math.max(0, Math.min(layers - 1, Math.round((layers * 17) / 48)));
}

/** Checks one edit from an untrusted place (a link, a form, a CLI line); errors name `where` and the field. */
export function checkEditSpec(value: unknown, where: string, layers?: number): EditSpec {
  const fail = (problem: string) => new FormatError(where, problem);
  if (typeof value !== 'object' || value === null) throw fail('an edit must be an object');
  const v = value as Record<string, unknown>;
  const text = (key: string): string => {
    const t = v[key];
    if (typeof t !== 'string' || !t.trim()) throw fail(`"${key}" must be a non-empty string`);
    if (t.length > MAX_TEXT) throw fail(`"${key}" is longer than ${MAX_TEXT} characters`);
    return t.trim();
  };
  const subject = text('subject');
  const prompt = text('prompt');
  const target = text('target');
  if (prompt.split('{}').length !== 2) throw fail(`the prompt must contain "{}" once, where the subject goes (got "${prompt}")`);
  if (/\s/.test(target)) throw fail(`the new object must be one word (one token), got "${target}"`);
  const s = (typeof v['settings'] === 'object' && v['settings'] !== null ? v['settings'] : {}) as Record<string, unknown>;
  const layer = s['layer'];
  if (!Number.isSafeInteger(layer) || (layer as number) < 0 || (layers !== undefined && (layer as number) >= layers)) {
    throw fail(`layer must be a whole number${layers === undefined ? ' >= 0' : ` from 0 to ${layers - 1}`}, got ${JSON.stringify(layer)}`);
  }
  const number = (key: keyof EditSettings, fallback: number, ok: (x: number) => boolean, rule: string): number => {
    const x = s[key] ?? fallback;
    if (typeof x !== 'number' || !Number.isFinite(x) || !ok(x)) throw fail(`${key} must be ${rule}, got ${JSON.stringify(x)}`);
    return x;
  };
  const mom2 = s['mom2Adjustment'] ?? DEFAULT_EDIT_SETTINGS.mom2Adjustment;
  if (typeof mom2 !== 'boolean') throw fail('mom2Adjustment must be true or false');
  const templates = s['contextTemplates'] ?? DEFAULT_EDIT_SETTINGS.contextTemplates;
  try {
    if (typeof templates !== 'string') throw new Error('contextTemplates must be a string like 5x10,10x10');
    parseTemplateLengths(templates);
  } catch (error) {
    throw fail(error instanceof Error ? error.message : String(error));
  }
  return {
    subject,
    prompt,
    target,
    settings: {
      layer: layer as number,
      mom2Adjustment: mom2,
      vSteps: number('vSteps', DEFAULT_EDIT_SETTINGS.vSteps, (x) => Number.isInteger(x) && x >= 1 && x <= MAX_V_STEPS, `a whole number from 1 to ${MAX_V_STEPS}`),
      vLr: number('vLr', DEFAULT_EDIT_SETTINGS.vLr, (x) => x > 0 && x <= 10, 'above 0 and at most 10'),
      strength: number('strength', DEFAULT_EDIT_SETTINGS.strength, (x) => x >= 0 && x <= MAX_STRENGTH, `from 0 to ${MAX_STRENGTH}`),
      contextTemplates: templates,
    },
  };
}

/** A link's `edits` parameter: the edits as compact JSON. */
export function editsToParam(edits: readonly EditSpec[]): string {
  return JSON.stringify(edits.map((e) => ({ s: e.subject, p: e.prompt, t: e.target, l: e.settings.layer, m: e.settings.mom2Adjustment ? 1 : 0, n: e.settings.vSteps, r: e.settings.vLr, k: e.settings.strength, c: e.settings.contextTemplates })));
}

/** The inverse of editsToParam; a malformed parameter is an error naming the link (a link is untrusted input). */
export function editsFromParam(text: string): EditSpec[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new FormatError('link', 'the "edits" parameter is not valid JSON');
  }
  if (!Array.isArray(parsed)) throw new FormatError('link', 'the "edits" parameter must be a list');
  if (parsed.length > MAX_EDITS) throw new FormatError('link', `carries ${parsed.length} edits; at most ${MAX_EDITS}`);
  return parsed.map((e: unknown, i) => {
    const o = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
    return checkEditSpec(
      { subject: o['s'], prompt: o['p'], target: o['t'], settings: { layer: o['l'], mom2Adjustment: o['m'] === undefined ? undefined : o['m'] === 1, vSteps: o['n'], vLr: o['r'], strength: o['k'], contextTemplates: o['c'] } },
      `link, edit ${i + 1}`,
    );
  });
}
