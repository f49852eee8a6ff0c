import * as ops from './engine/ops';
import { Graph, Tensor } from './engine/tensor';
import type { EditableModel } from './editableModel';
import { choleskySolve } from '../core/cholesky';
import { type RomeTokenizer, subjectPrompt, type SubjectPrompt } from './romeTokenizer';

/** ROME's hyper-parameters (kmeng01/rome's GPT-2 XL values unless noted). */
export interface RomeHyperparams {
  layer: number;
  /** u = C^-1 k* when true (GPT-2 XL and GPT-J in kmeng01/rome and EasyEdit alike); u = k* when false (EasyEdit's Llama 3). */
  mom2Adjustment: boolean;
  vSteps: number;
  vLr: number;
  vWeightDecay: number;
  clampNormFactor: number;
  klFactor: number;
  /** Stop the v* search when the loss falls below this. */
  earlyStopLoss: number;
}

export const ROME_DEFAULTS: Omit<RomeHyperparams, 'layer' | 'mom2Adjustment'> = {
  vSteps: 20,
  vLr: 0.5,
  vWeightDecay: 0.5,
  clampNormFactor: 4,
  klFactor: 0.0625,
  earlyStopLoss: 0.05,
};

/**
 * ROME as each family was published with (the paper's setups): kmeng01/rome's hparams for GPT-2 XL
 * (gpt2-xl.json) and GPT-J (gpt-j-6B.json), both with the mom2 adjustment; EasyEdit's llama3-8b.yaml for
 * Llama 3, without it, 25 v* steps and a weight decay of 1e-3. `layer` is the published model's.
 */
export const ROME_PRESETS: Record<'gpt2' | 'gptj' | 'llama', RomeHyperparams> = {
  gpt2: { ...ROME_DEFAULTS, layer: 17, mom2Adjustment: true },
  gptj: { ...ROME_DEFAULTS, layer: 5, mom2Adjustment: true },
  llama: { ...ROME_DEFAULTS, layer: 5, mom2Adjustment: false, vSteps: 25, vWeightDecay: 1e-3 },
};

/** One requested edit: `prompt` contains `{}` where the subject goes; `target` is the new object (one word). */
export interface EditRequest {
  subject: string;
  prompt: string;
  target: string;
}

export interface RomeContext {
  /** The model, its parameters not requiring gradients (see `frozen`): GPT-2, GPT-J or Llama. */
  model: EditableModel;
  tokenizer: RomeTokenizer;
  /** "{}" first, then sampled prefixes "x . {}". */
  contextTemplates: readonly string[];
  /** Cholesky factor of C at the edited layer (needed when mom2Adjustment is on). */
  covarianceFactor?: Float64Array;
}

export interface RomeUpdate {
  /** Left vector [d_ff] (unit norm). */
  u: Float32Array;
  /** Right vector Lambda [d_model]: W' = W + u Lambda^T in the [d_ff, d_model] orientation (transposed for nn.Linear layouts: applyUpdateInLayout). */
  lambda: Float32Array;
  steps: number;
  finalLoss: number;
  /** ||delta|| / ||v_init||. */
  deltaRatio: number;
}

type Tokenized = SubjectPrompt;

/** Groups sequences by length so each group is one batch. */
function byLength<T extends { ids: Int32Array }>(items: readonly T[]): T[][] {
  const groups = new Map<number, T[]>();
  for (const it of items) {
    const group = groups.get(it.ids.length);
    if (group) group.push(it);
    else groups.set(it.ids.length, [it]);
  }
  return [...groups.values()];
}

function stack(items: readonly { ids: Int32Array }[]): Int32Array {
  const seq = (items[0] as { ids: Int32Array }).ids.length;
  const out = new Int32Array(items.length * seq);
  items.forEach((it, r) => out.set(it.ids, r * seq));
  return out;
}

/**
 * k*: the MLP output projection's input at the subject's last token, averaged over the context templates
 * (each prefixing the edit prompt). Then u = C^-1 k* (or k*), normalised.
 */
export function computeLeftVector(ctx: RomeContext, request: EditRequest, hp: RomeHyperparams): { u: Float32Array; kStar: Float64Array } {
  const { model: m, tokenizer } = ctx;
  const dFF = m.dFF;
  const items = ctx.contextTemplates.map((t) => subjectPrompt(tokenizer, t.replace('{}', request.prompt), request.subject));
  const kStar = new Float64Array(dFF);
  for (const group of byLength(items)) {
    const seq = (group[0] as Tokenized).ids.length;
    const capture: { layer: number; keys?: Tensor; stop: boolean } = { layer: hp.layer, stop: true };
    m.forward(null, stack(group), group.length, seq, { captureKeys: capture, logitRows: new Int32Array([0]) });
    const keys = (capture.keys as Tensor).data;
    group.forEach((it, r) => {
      const o = (r * seq + it.subjectLast) * dFF;
      for (let j = 0; j < dFF; j++) kStar[j] = (kStar[j] as number) + (keys[o + j] as number) / items.length;
    });
  }
  let u: Float64Array = kStar;
  if (hp.mom2Adjustment) {
    if (!ctx.covarianceFactor) throw new Error('mom2Adjustment needs the covariance factor');
    u = choleskySolve(ctx.covarianceFactor, dFF, kStar);
  }
  const norm = Math.hypot(...u);
  return { u: Float32Array.from(u, (x) => x / norm), kStar };
}

/** ROME's v* objective for one request, as a function of delta: the loss and d(loss)/d(delta). */
export interface VStarObjective {
  vInit: Float32Array;
  /** Loss (NLL + KL + weight decay) at `delta`; with `withGradient`, delta.grad holds its gradient after. */
  evaluate(delta: Tensor, withGradient: boolean): number;
  /** The bare prompt's tokens and subject position (for k_cur). */
  bare: { ids: Int32Array; subjectLast: number };
}

export function vStarObjective(ctx: RomeContext, request: EditRequest, hp: RomeHyperparams): VStarObjective {
  const { model: m, tokenizer } = ctx;
  const d = m.dModel;
  const targetId = tokenizer.tokenId(request.target);
  if (targetId === undefined) throw new Error(`target "${request.target}" is not one token of the vocabulary`);
  interface Item extends Tokenized {
    kind: 'rewrite' | 'kl';
  }
  const rewrites: Item[] = ctx.contextTemplates.map((t) => ({ ...subjectPrompt(tokenizer, t.replace('{}', request.prompt), request.subject), kind: 'rewrite' }));
  const kl: Item = { ...subjectPrompt(tokenizer, '{} is a', request.subject), kind: 'kl' };
  const groups = byLength([...rewrites, kl]).map((items) => {
    const seq = (items[0] as Item).ids.length;
    const ids = stack(items);
    const capture: { layer: number; residual?: Tensor } = { layer: hp.layer };
    const mlp: { layer: number; out?: Tensor } = { layer: hp.layer };
    m.forward(null, ids, items.length, seq, { captureResidual: capture, captureMlpOut: mlp, logitRows: new Int32Array([0]) });
    // Logits are needed at the last position of rewriting prompts and at the subject of the KL prompt.
    const logitRows = Int32Array.from(items, (it, r) => r * seq + (it.kind === 'kl' ? it.subjectLast : seq - 1));
    const subjectRows = Int32Array.from(items, (it, r) => r * seq + it.subjectLast);
    const residual = capture.residual as Tensor;
    return { items, seq, residual: new Tensor(residual.data, residual.shape), mlpOut: mlp.out as Tensor, logitRows, subjectRows };
  });
  // v_init: the MLP output at the subject's last token of the bare prompt (the first rewriting prompt).
  const bareItem = rewrites[0] as Item;
  const bareGroup = groups.find((g) => g.items.includes(bareItem))!;
  const bareRow = bareGroup.items.indexOf(bareItem) * bareGroup.seq + bareItem.subjectLast;
  const vInit = Float32Array.from(bareGroup.mlpOut.data.subarray(bareRow * d, bareRow * d + d));
  const vInitNorm = Math.hypot(...vInit);
  // ROME's KL reference: the unedited distribution at the KL prompt's subject position (delta = 0).
  let klInit: Float32Array | null = null;

  const evaluate = (delta: Tensor, withGradient: boolean): number => {
    const g = new Graph();
    let nll: Tensor | null = null;
    let klTerm: Tensor | null = null;
    for (const grp of groups) {
      const h = ops.addAtRows(g, grp.residual, delta, grp.subjectRows);
      const logits = m.forward(g, new Int32Array(grp.items.length * grp.seq), grp.items.length, grp.seq, {
        resumeAfter: { layer: hp.layer, residual: h },
        logitRows: grp.logitRows,
      });
      const logp = ops.logSoftmax(g, logits);
      const v = logits.cols;
      const weights = new Float32Array(logp.size);
      grp.items.forEach((item, r) => {
        if (item.kind === 'rewrite') weights[r * v + targetId] = -1 / rewrites.length;
      });
      const groupNll = ops.weightedSum(g, logp, weights);
      nll = nll ? ops.add(g, nll, groupNll) : groupNll;
      const klIndex = grp.items.indexOf(kl);
      if (klIndex >= 0) {
        const klLogp = ops.gatherRows(g, logp, Int32Array.from([klIndex]));
        klTerm = ops.scale(g, ops.klFromLogProbs(g, klLogp, klInit as Float32Array), hp.klFactor);
      }
    }
    const decay = ops.scale(g, ops.norm(g, delta), hp.vWeightDecay / (vInitNorm * vInitNorm));
    const loss = ops.add(g, ops.add(g, nll as Tensor, klTerm as Tensor), decay);
    if (withGradient) {
      delta.grad = null;
      g.backward(loss);
    }
    return loss.data[0] as number;
  };
  // The KL reference distribution, from one pass at delta = 0.
  {
    const grp = groups.find((g) => g.items.includes(kl))!;
    const logits = m.forward(null, new Int32Array(grp.items.length * grp.seq), grp.items.length, grp.seq, {
      resumeAfter: { layer: hp.layer, residual: grp.residual },
      logitRows: Int32Array.from([grp.logitRows[grp.items.indexOf(kl)] as number]),
    });
    klInit = Float32Array.from(ops.logSoftmax(null, logits).data);
  }
  return { vInit, evaluate, bare: { ids: bareItem.ids, subjectLast: bareItem.subjectLast } };
}

/**
 * v*: Adam on a vector delta added to the MLP output of the edited layer at the subject's last token of every
 * prompt, minimising the target's NLL over the rewriting prompts + klFactor * KL on "{subject} is a" at the
 * subject position + weight decay; ||delta|| clamped to clampNormFactor * ||v_init||. Returns
 * Lambda = (v* - v_cur) / (k_cur . u) with k_cur, v_cur taken on the bare prompt.
 */
export function computeRightVector(ctx: RomeContext, request: EditRequest, hp: RomeHyperparams, u: Float32Array, hooks: RomeHooks = {}): RomeUpdate {
  const steps = rightVectorSteps(ctx, request, hp, u);
  for (let next = steps.next(); ; next = steps.next()) {
    if (next.done) return next.value;
    hooks.onStep?.(next.value.step, next.value.loss);
  }
}

/**
 * computeRightVector one v* step at a time: yields the loss after each step and returns the update, so a
 * caller can yield to its event loop between steps (the page's worker answers Cancel there).
 */
export function* rightVectorSteps(ctx: RomeContext, request: EditRequest, hp: RomeHyperparams, u: Float32Array): Generator<{ step: number; loss: number }, RomeUpdate> {
  const m = ctx.model;
  const d = m.dModel;
  const objective = vStarObjective(ctx, request, hp);
  const vInitNorm = Math.hypot(...objective.vInit);
  const delta = new Tensor(new Float32Array(d), [d], true);
  const adam = { m: new Float64Array(d), v: new Float64Array(d), t: 0 };
  let finalLoss = Infinity;
  let steps = 0;
  for (let it = 0; it < hp.vSteps; it++) {
    const last = it === hp.vSteps - 1;
    finalLoss = objective.evaluate(delta, !last);
    steps = it + 1;
    yield { step: steps, loss: finalLoss };
    if (finalLoss < hp.earlyStopLoss || last) break;
    adamStep(delta, adam, hp.vLr);
    // Clamp ||delta|| <= clampNormFactor * ||v_init||.
    const maxNorm = hp.clampNormFactor * vInitNorm;
    const n = Math.hypot(...delta.data);
    if (n > maxNorm) for (let j = 0; j < d; j++) delta.data[j] = ((delta.data[j] as number) * maxNorm) / n;
  }
  // k_cur . u on the bare prompt: v* - v_cur = delta, since v_cur = v_init.
  const keys: { layer: number; keys?: Tensor } = { layer: hp.layer };
  const { ids, subjectLast } = objective.bare;
  m.forward(null, ids, 1, ids.length, { captureKeys: keys, logitRows: new Int32Array([0]) });
  const kCur = (keys.keys as Tensor).data.subarray(subjectLast * m.dFF, (subjectLast + 1) * m.dFF);
  let ku = 0;
  for (let j = 0; j < m.dFF; j++) ku += (kCur[j] as number) * (u[j] as number);
  const lambda = Float32Array.from(delta.data, (x) => x / ku);
  return { u, lambda, steps, finalLoss, deltaRatio: Math.hypot(...delta.data) / vInitNorm };
}

/** torch.optim.Adam defaults (betas 0.9 / 0.999, eps 1e-8), no weight decay. */
function adamStep(p: Tensor, s: { m: Float64Array; v: Float64Array; t: number }, lr: number): void {
  s.t++;
  const g = p.grad as Float32Array;
  const c1 = 1 - 0.9 ** s.t;
  const c2 = 1 - 0.999 ** s.t;
  for (let i = 0; i < p.size; i++) {
    const gi = g[i] as number;
    s.m[i] = 0.9 * (s.m[i] as number) + 0.1 * gi;
    s.v[i] = 0.999 * (s.v[i] as number) + 0.001 * gi * gi;
    p.data[i] = (p.data[i] as number) - (lr * ((s.m[i] as number) / c1)) / (Math.sqrt((s.v[i] as number) / c2) + 1e-8);
  }
}

/** Progress of the v* search (the loss after each step); throwing from it stops the edit (Cancel). */
export interface RomeHooks {
  onStep?(step: number, loss: number): void;
}

/** The whole ROME edit: u from k*, Lambda from v*. */
export function rome(ctx: RomeContext, request: EditRequest, hp: RomeHyperparams, hooks: RomeHooks = {}): RomeUpdate {
  const { u } = computeLeftVector(ctx, request, hp);
  return computeRightVector(ctx, request, hp, u, hooks);
}

/** W + u Lambda^T for a [d_ff, d_model] matrix. */
export function applyUpdate(weight: Float32Array, u: Float32Array, lambda: Float32Array): Float32Array {
  const d = lambda.length;
  const out = Float32Array.from(weight);
  for (let i = 0; i < u.length; i++) {
    const ui = u[i] as number;
    for (let j = 0; j < d; j++) out[i * d + j] = (out[i * d + j] as number) + ui * (lambda[j] as number);
  }
  return out;
}
