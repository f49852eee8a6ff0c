
import { beforeAll, describe, expect, it } from 'vitest';
import { Tensor } from '../src/edit/engine/tensor';
import { decayMask, flatten, paramLayout, tensorsOver } from '../src/edit/flatParams';
import { localShard, newTrainState, train } from '../src/edit/trainer';
import { SMOKE_FORGE } from '../src/edit/forgeConfig';
import { frozen, type Gpt2Params, gpt2Forward, gpt2ParamShapes, initGpt2, mlpOutputName } from '../src/edit/gpt2Model';
import { keyStatistics } from '../src/edit/keyStatistics';
import { prompt, relationById } from '../src/edit/knowledgeBase';
import { robustCholesky } from '../src/core/cholesky';
import { forgeWorld } from '../src/edit/node/forgeWorld';
import { gpt2Editable } from '../src/edit/editableModel';
import { contextTemplates } from '../src/edit/contextTemplates';
import { applyUpdate, computeLeftVector, computeRightVector, ROME_DEFAULTS, type RomeContext, vStarObjective } from '../src/edit/rome';
import { encodeWords, END_OF_TEXT } from '../src/edit/wordTokenizer';
import { wordRomeTokenizer } from '../src/edit/romeTokenizer';
import { encodeTexts } from '../src/edit/trainingData';
import { forgeArchitecture } from '../src/edit/forgeArchitecture';

/** ROME on the smoke world's model, trained for a few seconds. */
const world = forgeWorld(SMOKE_FORGE);
const { config: c, vocab, kb } = world;
let params: Gpt2Params;
let trainedLoss: [number, number];
let ctx: RomeContext;
const layer = 0;

beforeAll(async () => {
  // A smoke-sized model trained for a few seconds: ROME's published hyper-parameters assume a model whose
  // logits can express a confident prediction (an untrained one's cannot, whatever its MLP outputs).
  const layout = paramLayout(gpt2ParamShapes(c));
  const flat = flatten(layout, initGpt2(c, 5));
  const settings = { ...SMOKE_FORGE.train, epochs: 40, peakLr: 1e-2 };
  const state = newTrainState(flat, decayMask(layout), settings);
  await train(state, world.sequences, [localShard(forgeArchitecture('gpt2', c), layout, flat)], settings, { afterEpoch: () => false });
  trainedLoss = [state.history[0]!.loss, state.history[state.history.length - 1]!.loss];
  params = frozen(tensorsOver(layout, flat));
  const templates = contextTemplates(gpt2Editable(c, params), wordRomeTokenizer(vocab), 1, [
    [3, 2],
    [5, 2],
  ]);
  const { moment } = keyStatistics(c, params, layer, encodeTexts(vocab, kb.filler));
  ctx = { model: gpt2Editable(c, params), tokenizer: wordRomeTokenizer(vocab), contextTemplates: templates, covarianceFactor: robustCholesky(moment, c.n_inner).factor };
});

const fact = kb.facts[3]!;
const relation = relationById(fact.relation);
const request = { subject: fact.subject, prompt: relation.templates[0]!, target: relation.objects.find((o) => o !== fact.object)! };


function keyAt(text: string, subjectLast: number): Float32Array {
  const ids = Int32Array.from([vocab.ids.get(END_OF_TEXT)!, ...encodeWords(vocab, text)]);
  const capture: { layer: number; keys?: Tensor } = { layer };
  gpt2Forward(null, c, params, ids, 1, ids.length, { captureKeys: capture });
  return capture.keys!.data.slice(subjectLast * c.n_inner, (subjectLast + 1) * c.n_inner);
}

describe('ROME', () => {
  it('context templates start with the bare "{}" and end in " . {}"', () => {
    expect(ctx.contextTemplates[0]).toBe('{}');
    expect(ctx.contextTemplates.slice(1).every((t) => t.endsWith(' . {}'))).toBe(true);
    expect(ctx.contextTemplates).toHaveLength(5);
  });

  it('k* is the mean of the keys at the subject\'s last token over the context templates; u = k*/|k*| without mom2', () => {
    const { kStar, u } = computeLeftVector(ctx, request, { ...ROME_DEFAULTS, layer, mom2Adjustment: false });
    const mean = new Float64Array(c.n_inner);
    for (const t of ctx.contextTemplates) {
      const full = t.replace('{}', request.prompt);
      const before = full.slice(0, full.indexOf('{}'));
      const subjectLast = encodeWords(vocab, before).length + encodeWords(vocab, request.subject).length;
      const k = keyAt(prompt(full, request.subject), subjectLast);
      k.forEach((x, j) => (mean[j] = mean[j]! + x / ctx.contextTemplates.length));
    }
    mean.forEach((x, j) => expect(Math.abs(x - kStar[j]!)).toBeLessThan(1e-5));
    const norm = Math.hypot(...kStar);
    u.forEach((x, j) => expect(Math.abs(x - kStar[j]! / norm)).toBeLessThan(1e-6));
  });

  it('with mom2 adjustment, C u is parallel to k*', async () => {
    const { kStar, u } = computeLeftVector(ctx, request, { ...ROME_DEFAULTS, layer, mom2Adjustment: true });
    const { moment } = keyStatistics(c, params, layer, encodeTexts(vocab, kb.filler));
    const n = c.n_inner;
    const cu = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) cu[i] = cu[i]! + moment[i * n + j]! * u[j]!;
    const cos = cu.reduce((a, x, i) => a + x * kStar[i]!, 0) / (Math.hypot(...cu) * Math.hypot(...kStar));
    expect(cos).toBeGreaterThan(0.9999);
  });

  it("the edited matrix maps the bare prompt's key exactly to v* = v_init + delta, and the search lowers its objective", () => {
    // This toy model is too small for ROME's published values to succeed (its later layer carries little from
    // the subject to the last position, and the weight decay ||delta|| / ||v_init||^2 dominates), so the search
    // runs without decay and clamp here; efficacy with the published values is tested on the demo model.
    const hp = { ...ROME_DEFAULTS, layer, mom2Adjustment: true, vWeightDecay: 0, clampNormFactor: 1e6 };
    const { u } = computeLeftVector(ctx, request, hp);
    const update = computeRightVector(ctx, request, hp, u);
    const base = params.get(mlpOutputName(layer))!;
    const edited = applyUpdate(base.data, update.u, update.lambda);
    const before = encodeWords(vocab, request.prompt.slice(0, request.prompt.indexOf('{}')));
    const subjectLastIndex = before.length + encodeWords(vocab, request.subject).length;
    const k = keyAt(prompt(request.prompt, request.subject), subjectLastIndex);
    // k W' - k W = (k . u) Lambda = delta = v* - v_init
    const d = c.n_embd;
    let ku = 0;
    k.forEach((x, j) => (ku += x * update.u[j]!));
    for (let col = 0; col < d; col++) {
      let diff = 0;
      for (let j = 0; j < c.n_inner; j++) diff += k[j]! * (edited[j * d + col]! - base.data[j * d + col]!);
      expect(Math.abs(diff - ku * update.lambda[col]!)).toBeLessThan(1e-4);
    }
    // The training took, and the search ends below its objective (NLL + KL + decay) at delta = 0.
    expect(trainedLoss[1]).toBeLessThan(trainedLoss[0] - 1);
    const atZero = vStarObjective(ctx, request, hp).evaluate(new Tensor(new Float32Array(c.n_embd), [c.n_embd], true), false);
    expect(update.finalLoss).toBeLessThan(atZero);
  });
});

describe('ROME clamp', () => {
  it('keeps ||delta|| within clampNormFactor x ||v_init||', () => {
    const hp = { ...ROME_DEFAULTS, layer, mom2Adjustment: false, vSteps: 5 };
    const { u } = computeLeftVector(ctx, request, hp);
    const update = computeRightVector(ctx, request, hp, u);
    expect(update.deltaRatio).toBeLessThanOrEqual(ROME_DEFAULTS.clampNormFactor * (1 + 1e-5));
    expect(update.deltaRatio).toBeGreaterThan(0);
  });
});
