import { SeededRandom } from '../core/random';
import type { EditBundle, EditRecordMeta } from '../edit/editBundle';
import type { EditableModel } from '../edit/editableModel';
import type { Gpt2Config, Gpt2Params } from '../edit/gpt2Model';
import type { TextTokenizer } from '../lm/tokenizer';
import { type DecoderExample, decodeUpdates, type ObjectDecoder, PAPER_DECODER, trainObjectDecoder } from './objectDecoder';
import { topIndices } from '../core/ranking';
import { inferFromReadings, madeUpSubject, readObject, readoutContext } from './objectReadout';
import { objectFirstToken } from './reversal';

/** The paper's split for object inference (Sec. 6.2): 20 relations in distribution, 11 out of it. */
export interface ObjectSplits {
  idRelations: string[];
  oodRelations: string[];
  train: EditRecordMeta[];
  validation: EditRecordMeta[];
  test: EditRecordMeta[];
  ood: EditRecordMeta[];
}

export const PAPER_SPLITS = { idRelations: 20, trainPer: 30, validationPer: 5, testPer: 15, oodPer: 30 };

export function objectSplits(edits: readonly EditRecordMeta[], seed: number, sizes = PAPER_SPLITS): ObjectSplits {
  const byRelation = new Map<string, EditRecordMeta[]>();
  for (const e of edits) {
    const list = byRelation.get(e.relation);
    if (list) list.push(e);
    else byRelation.set(e.relation, [e]);
  }
  const rng = new SeededRandom(seed);
  const relations = rng.shuffle([...byRelation.keys()].sort());
  const idRelations = relations.slice(0, sizes.idRelations).sort();
  const oodRelations = relations.slice(sizes.idRelations).sort();
  const out: ObjectSplits = { idRelations, oodRelations, train: [], validation: [], test: [], ood: [] };
  const need = sizes.trainPer + sizes.validationPer + sizes.testPer;
  for (const r of idRelations) {
    const list = rng.shuffle([...(byRelation.get(r) as EditRecordMeta[])]);
    if (list.length < need) throw new RangeError(`relation ${r} has ${list.length} edits; the split needs ${need}`);
    out.train.push(...list.slice(0, sizes.trainPer));
    out.validation.push(...list.slice(sizes.trainPer, sizes.trainPer + sizes.validationPer));
    out.test.push(...list.slice(sizes.trainPer + sizes.validationPer, need));
  }
  for (const r of oodRelations) out.ood.push(...rng.shuffle([...(byRelation.get(r) as EditRecordMeta[])]).slice(0, sizes.oodPer));
  return out;
}

export interface TopAccuracy {
  top1: number;
  top5: number;
  n: number;
}

function accuracy(logits: readonly ArrayLike<number>[], targets: readonly number[]): TopAccuracy {
  let top1 = 0;
  let top5 = 0;
  logits.forEach((l, i) => {
    const ranked = topIndices(l, 5);
    if (ranked[0] === targets[i]) top1++;
    if (ranked.includes(targets[i] as number)) top5++;
  });
  return { top1: (100 * top1) / targets.length, top5: (100 * top5) / targets.length, n: targets.length };
}

export interface DecoderResult {
  tunedLayer: number;
  bestEpoch: number;
  epochs: number;
  inDistribution: TopAccuracy;
  outOfDistribution: TopAccuracy;
  seconds: number;
}

export interface TrainingFreeResult {
  /** Sign unknown, relation unknown: what a reviewer gets. */
  inDistribution: TopAccuracy;
  outOfDistribution: TopAccuracy;
  /** With the relation given (its templates only) and the bundle's sign: an upper reference. */
  relationKnown: { inDistribution: TopAccuracy; outOfDistribution: TopAccuracy };
  /** How often the kept sign was ROME's, and the relation guess was right, in %. */
  signAgreement: number;
  relationGuess: number;
  templatesPerRelation: number;
  subject: string;
  secondsPerEdit: number;
}

export interface ObjectInferenceInputs {
  /** The base model in the CPU engine (edits are added as rank-one updates): the decoder's, any family. */
  model: EditableModel;
  /** The same model as GPT-2 configuration and parameters, for the training-free readout (GPT-2 only). */
  gpt2: { config: Gpt2Config; params: Gpt2Params } | null;
  tokenizer: TextTokenizer;
  bundle: EditBundle;
  neutralTexts: readonly string[];
}

type Loaded = DecoderExample & { meta: EditRecordMeta };

async function load(inputs: ObjectInferenceInputs, metas: readonly EditRecordMeta[]): Promise<Loaded[]> {
  const out: Loaded[] = [];
  for (const meta of metas) {
    const promptText = meta.prompt.replace('{}', meta.subject);
    const target = objectFirstToken(inputs.tokenizer, promptText, inputs.tokenizer.encode(promptText), meta.newObject);
    out.push({ ...(await inputs.bundle.factors(meta.id)), target, meta });
  }
  return out;
}

/** Fig. 6: one decoder per tuned layer, accuracy on the in- and out-of-distribution test sets. */
export async function decoderExperiment(inputs: ObjectInferenceInputs, splits: ObjectSplits, layers: readonly number[], log: (line: string) => void = () => undefined): Promise<{ results: DecoderResult[]; decoders: ObjectDecoder[] }> {
  const [train, validation, test, ood] = await Promise.all([load(inputs, splits.train), load(inputs, splits.validation), load(inputs, splits.test), load(inputs, splits.ood)]);
  const editLayer = (train[0] as Loaded).meta.layer;
  const results: DecoderResult[] = [];
  const decoders: ObjectDecoder[] = [];
  for (const tunedLayer of layers) {
    const t0 = Date.now();
    const { decoder, history, bestEpoch } = trainObjectDecoder(inputs.model, train, validation, { ...PAPER_DECODER, tunedLayer, editLayer }, (h) => log(`layer ${tunedLayer} epoch ${h.epoch}: train ${h.trainLoss.toFixed(3)} validation ${h.validationLoss.toFixed(3)}`));
    const score = (set: Loaded[]) => accuracy(decodeUpdates(inputs.model, decoder, set), set.map((e) => e.target));
    results.push({ tunedLayer, bestEpoch, epochs: history.length, inDistribution: score(test), outOfDistribution: score(ood), seconds: (Date.now() - t0) / 1000 });
    decoders.push(decoder);
    log(`layer ${tunedLayer}: ${JSON.stringify(results.at(-1))}`);
  }
  return { results, decoders };
}

/** Relation -> distinct prompt templates in the bundle (the edit prompts and paraphrases), at most `per` each. */
export function bundleTemplates(edits: readonly EditRecordMeta[], per: number): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of edits) {
    for (const t of [e.prompt, e.paraphrase]) {
      const list = out.get(e.relation) ?? [];
      if (t.includes('{}') && !list.includes(t) && list.length < per) list.push(t);
      out.set(e.relation, list);
    }
  }
  return out;
}

/** Training-free readout on the same test sets. */
export async function trainingFreeExperiment(inputs: ObjectInferenceInputs, splits: ObjectSplits, templatesPerRelation: number, log: (line: string) => void = () => undefined): Promise<TrainingFreeResult> {
  const all = inputs.bundle.edits.filter((e) => e.main);
  const subject = madeUpSubject(all.map((e) => e.subject));
  const templates = bundleTemplates(all, templatesPerRelation);
  const layer = (splits.test[0] as EditRecordMeta).layer;
  if (!inputs.gpt2) throw new Error('the training-free readout runs on GPT-2 models only');
  const ctx = readoutContext(inputs.gpt2.config, inputs.gpt2.params, layer, inputs.tokenizer, inputs.neutralTexts, templates, subject);
  let signs = 0;
  let relations = 0;
  let count = 0;
  const t0 = Date.now();
  const run = async (metas: EditRecordMeta[]) => {
    const set = await load(inputs, metas);
    const scores: Float32Array[] = [];
    const known: Float32Array[] = [];
    for (const e of set) {
      const plus = readObject(ctx, e.u, e.lambda, 1);
      const inferred = inferFromReadings(plus, readObject(ctx, e.u, e.lambda, -1), 5);
      const contrast = new Float32Array(inputs.model.vocabSize).fill(-Infinity);
      inferred.candidates.forEach((c, rank) => (contrast[c.token] = 5 - rank));
      scores.push(contrast);
      known.push(plus.byRelation.get(e.meta.relation) as Float32Array);
      if (inferred.sign === 1) signs++;
      if (inferred.relation === e.meta.relation) relations++;
      if (++count % 50 === 0) log(`training-free: ${count} edits`);
    }
    const targets = set.map((e) => e.target);
    return { unknown: accuracy(scores, targets), known: accuracy(known, targets) };
  };
  const id = await run(splits.test);
  const ood = await run(splits.ood);
  return {
    inDistribution: id.unknown,
    outOfDistribution: ood.unknown,
    relationKnown: { inDistribution: id.known, outOfDistribution: ood.known },
    signAgreement: (100 * signs) / count,
    relationGuess: (100 * relations) / count,
    templatesPerRelation,
    subject,
    secondsPerEdit: (Date.now() - t0) / 1000 / count,
  };
}
