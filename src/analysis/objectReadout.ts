import { FormatError } from '../formats/formatError';
import { topIndices } from '../core/ranking';
import { Tensor } from '../edit/engine/tensor';
import * as ops from '../edit/engine/ops';
import { type Gpt2Config, gpt2Forward, type Gpt2Params, mlpOutputName } from '../edit/gpt2Model';
import type { TextTokenizer } from '../lm/tokenizer';

/**
 * Training-free object inference (ours; paper Sec. 6 trains a decoder instead). ROME writes
 * W' = W + u lambda^T so that the edited subject's key k* maps to the value v* that makes the model say
 * the new object. We take u itself as a stand-in key (scaled to a typical key norm; measured better than
 * rebuilding k* as C u from a small neutral sample), compute the value the edited layer returns for it,
 * write that value as the MLP output at the last token of a made-up subject in every relation's prompt
 * templates, and read what the edited model says next. Reading the same prompts with the value the layer
 * gave before the edit (W^T k + b) and subtracting leaves what the edit added: the new object rises, the
 * relation's usual objects cancel. The update's sign is not identifiable from W' (u lambda^T =
 * (-u)(-lambda)^T): both are read, and the sign whose contrast peaks higher is kept.
 */
export interface ReadoutPrompt {
  relation: string;
  template: string;
  ids: Int32Array;
  /** Row of the made-up subject's last token. */
  subjectRow: number;
}

export interface ReadoutContext {
  config: Gpt2Config;
  params: Gpt2Params;
  layer: number;
  /** Median norm of neutral-text keys at `layer`: the scale of a real subject's key. */
  typicalKeyNorm: number;
  prompts: ReadoutPrompt[];
  /** The same prompts grouped by token count: one batched forward per group. */
  promptsByLength: ReadonlyMap<number, readonly ReadoutPrompt[]>;
  subject: string;
}

export interface ReadoutOptions {
  /** 'mean-key': the sign whose key leans like the mean key; 'both': keep both signs' readings. */
  sign: 'mean-key' | 'both';
}

export interface ObjectReading {
  /** Next-token log-probabilities averaged over each relation's templates. */
  byRelation: Map<string, Float32Array>;
  /** Relation whose templates read most confidently (highest top probability). */
  mostConfidentRelation: string;
  /** Average of next-token probabilities over every template of every relation. */
  pooled: Float32Array;
  /** The same log-probabilities with the value the layer gave that key before the edit (W^T k + b). */
  original: Map<string, Float32Array>;
  sign: 1 | -1;
}

/** Token position of the subject's last token in `template` filled with `subject`, or null when the tokenizer merges across it. */
export function subjectPrompt(tokenizer: TextTokenizer, template: string, subject: string, relation: string): ReadoutPrompt | null {
  const at = template.indexOf('{}');
  if (at < 0) return null;
  const prefix = tokenizer.encode(template.slice(0, at) + subject);
  const ids = tokenizer.encode(template.replace('{}', subject));
  if (prefix.length === 0 || !prefix.every((t, i) => ids[i] === t)) return null;
  return { relation, template, ids: Int32Array.from(ids), subjectRow: prefix.length - 1 };
}

/** A subject no edit mentions, built from words of real subjects (so every token exists). */
export function madeUpSubject(subjects: readonly string[]): string {
  const known = new Set(subjects);
  const words = subjects.map((s) => s.split(/\s+/).filter(Boolean));
  for (let i = 0; i < words.length; i++) {
    for (let j = words.length - 1; j >= 0; j--) {
      const a = words[i] as string[];
      const b = words[j] as string[];
      if (a.length === 0 || b.length === 0) continue;
      const candidate = `${a[0]} ${b[b.length - 1]}`;
      if (!known.has(candidate)) return candidate;
    }
  }
  return 'Someone';
}

/** Norms of the keys of `layer` at every token of the given sequences. */
export function keyNorms(config: Gpt2Config, params: Gpt2Params, layer: number, sequences: readonly Int32Array[]): number[] {
  const n = config.n_inner;
  const norms: number[] = [];
  for (const seq of sequences) {
    if (seq.length === 0) continue;
    const ids = seq.length > config.n_positions ? seq.subarray(0, config.n_positions) : seq;
    const capture: { layer: number; keys?: Tensor } = { layer };
    gpt2Forward(null, config, params, ids, 1, ids.length, { captureKeys: capture, logitRows: new Int32Array([0]) });
    const keys = (capture.keys as Tensor).data;
    for (let t = 0; t < ids.length; t++) {
      let sq = 0;
      for (let i = 0; i < n; i++) sq += (keys[t * n + i] as number) ** 2;
      norms.push(Math.sqrt(sq));
    }
  }
  return norms;
}

/** How a readout failure names its input: the templates come with the relation probe. */
export const PROBE_TEMPLATES = 'the relation probe\'s templates';

/**
 * Prompts of every relation around `subject`, and the typical key norm at `layer` over `neutralTexts`
 * (the prompts themselves when none are given: any text the tokenizer knows will do for a norm).
 */
export function readoutContext(config: Gpt2Config, params: Gpt2Params, layer: number, tokenizer: TextTokenizer, neutralTexts: readonly string[], templates: ReadonlyMap<string, readonly string[]>, subject: string): ReadoutContext {
  const texts = neutralTexts.length > 0 ? neutralTexts : [...templates.values()].flat().map((t) => t.replace('{}', subject));
  const sequences = texts.map((t) => Int32Array.from(tokenizer.encode(t)));
  const norms = keyNorms(config, params, layer, sequences).sort((a, b) => a - b);
  if (norms.length < 10) throw new RangeError(`only ${norms.length} neutral tokens: the key statistics need more text`);
  const prompts: ReadoutPrompt[] = [];
  const byLength = new Map<number, ReadoutPrompt[]>();
  for (const [relation, list] of templates) {
    for (const template of list) {
      const p = subjectPrompt(tokenizer, template, subject, relation);
      if (!p || p.ids.length > config.n_positions) continue;
      prompts.push(p);
      const group = byLength.get(p.ids.length);
      if (group) group.push(p);
      else byLength.set(p.ids.length, [p]);
    }
  }
  if (prompts.length === 0) throw new FormatError(PROBE_TEMPLATES, `none of its ${[...templates.values()].flat().length} prompt templates fits this model (each is longer than its ${config.n_positions} positions, or has no {} for the subject)`);
  return { config, params, layer, typicalKeyNorm: norms[Math.floor(norms.length / 2)] as number, prompts, promptsByLength: byLength, subject };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** Reads the next-token distributions for one edit W' = W + u lambda^T of the context's layer. */
/**
 * Reads the next-token distributions for one edit u lambda^T of the context's layer. `matrixHoldsEdit`:
 * the context's parameters already hold W' (a dropped edited model); otherwise they hold W and the update
 * is added per prompt (the experiments over an edit bundle).
 */
export function readObject(ctx: ReadoutContext, u: Float32Array, lambda: Float32Array, sign: 1 | -1, matrixHoldsEdit = false): ObjectReading {
  const { config, params, layer } = ctx;
  const d = config.n_embd;
  const n = config.n_inner;
  const key = u;
  const norm = Math.sqrt(dot(key, key)) || 1;
  const k = Float32Array.from(key, (x) => (sign * x * ctx.typicalKeyNorm) / norm);
  // Value the edited layer returns for that key: W^T k + lambda (u . k) + b.
  const w = params.get(mlpOutputName(layer)) as Tensor;
  const b = params.get(`transformer.h.${layer}.mlp.c_proj.bias`) as Tensor;
  const value = new Float32Array(d);
  const before = new Float32Array(d);
  const uk = dot(u, k);
  for (let c = 0; c < d; c++) {
    let s = b.data[c] as number;
    for (let i = 0; i < n; i++) s += (k[i] as number) * (w.data[i * d + c] as number);
    const added = uk * (lambda[c] as number);
    before[c] = matrixHoldsEdit ? s - added : s;
    value[c] = matrixHoldsEdit ? s : s + added;
  }
  const update = matrixHoldsEdit ? null : { u, lambda };
  const edited = readValue(ctx, update, value);
  const original = readValue(ctx, update, before);
  return { ...edited, original: original.byRelation, sign };
}

interface ValueReading {
  byRelation: Map<string, Float32Array>;
  mostConfidentRelation: string;
  pooled: Float32Array;
}

/** Next-token log-probabilities of every prompt with `value` written at the made-up subject's last token. */
function readValue(ctx: ReadoutContext, update: { u: Float32Array; lambda: Float32Array } | null, value: Float32Array): ValueReading {
  const { config, params, layer } = ctx;
  const d = config.n_embd;
  const n = config.n_inner;
  const byRelation = new Map<string, Float32Array>();
  const counts = new Map<string, number>();
  const pooled = new Float32Array(config.vocab_size);
  for (const [seq, group] of ctx.promptsByLength) {
    const ids = new Int32Array(group.length * seq);
    group.forEach((p, i) => ids.set(p.ids, i * seq));
    const us = new Float32Array(group.length * n);
    const ls = new Float32Array(group.length * d);
    const values = new Float32Array(group.length * d);
    group.forEach((_, i) => {
      if (update) {
        us.set(update.u, i * n);
        ls.set(update.lambda, i * d);
      }
      values.set(value, i * d);
    });
    const logits = gpt2Forward(null, config, params, ids, group.length, seq, {
      logitRows: Int32Array.from(group, (_, i) => i * seq + seq - 1),
      ...(update ? { mlpRankOne: { layer, u: us, lambda: ls } } : {}),
      mlpReplace: { layer, rows: Int32Array.from(group, (p, i) => i * seq + p.subjectRow), values },
    });
    const logp = ops.logSoftmax(null, logits);
    const v = config.vocab_size;
    group.forEach((p, i) => {
      const row = logp.data.subarray(i * v, (i + 1) * v);
      const acc = byRelation.get(p.relation) ?? new Float32Array(v);
      for (let j = 0; j < v; j++) {
        acc[j] = (acc[j] as number) + (row[j] as number);
        pooled[j] = (pooled[j] as number) + Math.exp(row[j] as number) / ctx.prompts.length;
      }
      byRelation.set(p.relation, acc);
      counts.set(p.relation, (counts.get(p.relation) ?? 0) + 1);
    });
  }
  let mostConfidentRelation = '';
  let best = -Infinity;
  for (const [r, acc] of byRelation) {
    const c = counts.get(r) as number;
    let top = -Infinity;
    for (let j = 0; j < acc.length; j++) top = Math.max(top, (acc[j] = (acc[j] as number) / c));
    if (top > best) {
      best = top;
      mostConfidentRelation = r;
    }
  }
  return { byRelation, mostConfidentRelation, pooled };
}


/** Per-token rise in probability from the pre-edit value to the edited one, summed over every prompt. */
export function editContrast(reading: ObjectReading): Float32Array {
  const out = new Float32Array(reading.pooled.length);
  for (const [relation, edited] of reading.byRelation) {
    const before = reading.original.get(relation) as Float32Array;
    for (let j = 0; j < out.length; j++) out[j] = (out[j] as number) + Math.exp(edited[j] as number) - Math.exp(before[j] as number);
  }
  return out;
}

export interface InferredObject {
  /** Token ids, most likely first, with their contrast scores. */
  candidates: { token: number; score: number }[];
  sign: 1 | -1;
  /** Relation whose prompts the edit moved most (largest KL from the pre-edit reading). */
  relation: string;
  /** The reading of the kept sign, for relation-specific views. */
  reading: ObjectReading;
}

function maxOf(values: Float32Array): number {
  let m = -Infinity;
  for (const v of values) m = Math.max(m, v);
  return m;
}

/** Reads both signs, keeps the one whose contrast peaks higher, ranks tokens by contrast. */
export function inferObject(ctx: ReadoutContext, u: Float32Array, lambda: Float32Array, top = 5, matrixHoldsEdit = false): InferredObject {
  return inferFromReadings(readObject(ctx, u, lambda, 1, matrixHoldsEdit), readObject(ctx, u, lambda, -1, matrixHoldsEdit), top);
}

/** inferObject from the two signs' readings (the experiments also use the + reading on its own). */
export function inferFromReadings(plus: ObjectReading, minus: ObjectReading, top = 5): InferredObject {
  const cPlus = editContrast(plus);
  const cMinus = editContrast(minus);
  const [reading, contrast] = maxOf(cPlus) >= maxOf(cMinus) ? [plus, cPlus] : [minus, cMinus];
  let relation = '';
  let bestKl = -Infinity;
  for (const [r, edited] of reading.byRelation) {
    const before = reading.original.get(r) as Float32Array;
    let kl = 0;
    for (let j = 0; j < edited.length; j++) kl += Math.exp(edited[j] as number) * ((edited[j] as number) - (before[j] as number));
    if (kl > bestKl) {
      bestKl = kl;
      relation = r;
    }
  }
  return { candidates: topIndices(contrast, top).map((token) => ({ token, score: contrast[token] as number })), sign: reading.sign, relation, reading };
}
