// `npm run forge:family-edits -- --forge full-llama [--layer 0] [--successful 50] [--compare 10] [--out public/demo-llama]`:
// the edit set of a forge model of any architecture, ROME with the family's published hyper-parameters
// (ROME_PRESETS; the main setting is the family's published mom2 adjustment, the comparison set the other one),
// resumable (a journal in the model's folder), then the model's demo folder: base/, edited/ (the first
// successful main edit), edits.safetensors (every edit tried, with its metrics), facts.json, mom2-corpus.txt,
// neutral-samples.txt, edit-report.json, layer-sweep.json and training-report.json.
//
// Main edits go round the relations, one fact of each per round, until each relation has `successful`
// effective edits or has run out of facts: the set is the same on every run (ROME is deterministic).
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { robustCholesky } from '../../core/cholesky';
import { meanStd } from '../../core/meanStd';
import { rowMatrix } from '../../core/matrix';
import { pairwiseCosine } from '../../core/pairwiseCosine';
import { cpuOperator, randomizedSvd } from '../../core/randomizedSvd';
import { CONTEXT_TEMPLATE_SEED, contextTemplates, parseTemplateLengths } from '../contextTemplates';
import { demoFacts, mom2Corpus } from '../demoWorld';
import { type EditRecord, writeEditBundle } from '../editBundle';
import { applyUpdateInLayout } from '../editableModel';
import { type EditSpec, planEdits } from '../editPlan';
import { familyEditOutcome, keyMoment, mlpRows } from '../familyEditMetrics';
import { forgeByName } from '../forgeConfig';
import { relationById } from '../knowledgeBase';
import { neutralSamples } from '../neutralSamples';
import { rome, ROME_PRESETS } from '../rome';
import { wordRomeTokenizer } from '../romeTokenizer';
import { Tensor } from '../engine/tensor';
import { encodeTexts } from '../trainingData';
import { cliArgs } from './cliArgs';
import { writeModelFolder } from './demoFiles';
import { loadForgeModel } from './forgeModelFiles';
import { useNativeEngine } from './nativeEngine';

/** A journal line: the bundle's record and the paper's signature of W' for that edit. */
type JournalRecord = EditRecord & { signature: { sameDirectionFraction: number; pcsAfter: number; sigmaRatioAfter: number } };

const { value } = cliArgs();
const engine = useNativeEngine();
const forge = forgeByName(value('forge', 'full-llama'));
const dir = value('dir', `.cache/forge/${forge.name}`);
const { world, arch, model } = await loadForgeModel(forge, dir);
const out = value('out', `public/demo-${arch.id}`);
const layer = Number(value('layer', String(forge.edits.layer)));
const mainMom2 = value('mom2', ROME_PRESETS[arch.id].mom2Adjustment ? 'on' : 'off') === 'on';
const successful = Number(value('successful', '50'));
const compare = Number(value('compare', '10'));
const templateText = value('templates', forge.edits.contextTemplates);
const tokenizer = wordRomeTokenizer(world.vocab);
const templates = contextTemplates(model, tokenizer, CONTEXT_TEMPLATE_SEED, parseTemplateLengths(templateText));
let factor: Float64Array | undefined;
/** C's Cholesky factor at the edit layer, computed once when an edit with the adjustment first needs it. */
const covarianceFactor = () => (factor ??= robustCholesky(keyMoment(model, layer, encodeTexts(world.vocab, mom2Corpus(world.kb))).moment, model.dFF).factor);

// Every fact of every relation in a seeded order (main), and `compare` per relation with the other setting.
const candidates = new Map<string, EditSpec[]>();
for (const s of planEdits(world.kb, Number.MAX_SAFE_INTEGER, mainMom2, 2026)) candidates.set(s.relation, [...(candidates.get(s.relation) ?? []), s]);
const compareSpecs = planEdits(world.kb, compare, !mainMom2, 2027, 100_000);

const journal = join(dir, `edits-journal-layer${layer}-${mainMom2 ? 'mom2' : 'nomom2'}-${successful}-${compare}-t${templateText}.jsonl`);
const done = new Map<number, JournalRecord>();
if (existsSync(journal)) {
  const lines = readFileSync(journal, 'utf8').split('\n').filter((l) => l);
  lines.forEach((line, i) => {
    try {
      const r = JSON.parse(line) as JournalRecord & { u: number[]; lambda: number[] };
      done.set(r.id, { ...r, u: Float32Array.from(r.u), lambda: Float32Array.from(r.lambda) });
    } catch {
      // A run killed mid-write leaves a partial last line: that edit is simply done again.
      if (i !== lines.length - 1) throw new Error(`${journal}: line ${i + 1} is not a JSON record; delete the journal to start over`);
    }
  });
}
console.log(`forge ${forge.name} (${arch.id}), layer ${layer}: main mom2 ${mainMom2 ? 'on' : 'off'} until ${successful} effective per relation, ${compareSpecs.length} with it ${mainMom2 ? 'off' : 'on'}; ${done.size} in ${journal}; ${engine}`);

const t0 = performance.now();
let ran = 0;
async function run(s: EditSpec, main: boolean): Promise<JournalRecord> {
  const cached = done.get(s.id);
  if (cached) return cached;
  const relation = relationById(s.relation);
  const fact = world.kb.facts[s.factIndex] as (typeof world.kb.facts)[number];
  const hp = { ...ROME_PRESETS[arch.id], layer, mom2Adjustment: s.mom2Adjustment };
  const update = rome({ model, tokenizer, contextTemplates: templates, covarianceFactor: s.mom2Adjustment ? covarianceFactor() : undefined }, { subject: s.subject, prompt: relation.templates[s.editTemplate] as string, target: s.newObject }, hp);
  const o = await familyEditOutcome(model, (p) => arch.editable(p), world.vocab, world.kb, s, layer, update.u, update.lambda);
  const record: JournalRecord = {
    id: s.id,
    relation: s.relation,
    subject: s.subject,
    prompt: relation.templates[s.editTemplate] as string,
    paraphrase: relation.templates[fact.heldOutTemplate] as string,
    trueObject: s.trueObject,
    newObject: s.newObject,
    layer,
    mom2Adjustment: s.mom2Adjustment,
    main,
    metrics: { efficacy: o.efficacy, paraphrase: o.paraphrase, neighbourhood: o.neighbourhood, steps: update.steps, finalLoss: update.finalLoss, deltaRatio: update.deltaRatio },
    u: update.u,
    lambda: update.lambda,
    signature: { sameDirectionFraction: o.sameDirectionFraction, pcsAfter: o.pcsAfter, sigmaRatioAfter: o.sigmaRatioAfter },
  };
  appendFileSync(journal, `${JSON.stringify({ ...record, u: Array.from(record.u), lambda: Array.from(record.lambda) })}\n`);
  done.set(s.id, record);
  if (++ran % 25 === 0) console.log(`  ${ran} edits run, ${((performance.now() - t0) / 1000 / ran).toFixed(2)} s each`);
  return record;
}

const main: JournalRecord[] = [];
const effective = new Map<string, number>();
for (let round = 0; ; round++) {
  let any = false;
  for (const [relation, specs] of candidates) {
    const s = specs[round];
    if (!s || (effective.get(relation) ?? 0) >= successful) continue;
    any = true;
    const r = await run(s, true);
    main.push(r);
    if (r.metrics.efficacy) effective.set(relation, (effective.get(relation) ?? 0) + 1);
  }
  if (!any) break;
}
const others: JournalRecord[] = [];
for (const s of compareSpecs) others.push(await run(s, false));
const wallSeconds = (performance.now() - t0) / 1000;

// The report: ROME's metrics and the paper's signature per setting, against the unedited layers.
const rows = (l: number) => rowMatrix(model.dFF, model.dModel, mlpRows(model, l));
const unEditedLayerPcs = Array.from({ length: model.layers }, (_, l) => pairwiseCosine(rows(l)).pcs);
const baseSvd = await randomizedSvd(cpuOperator(rows(layer)), { k: 2, oversampling: 8, powerIterations: 4 });
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const summary = (set: readonly JournalRecord[]) => {
  const pcsAfter = meanStd(set.map((r) => r.signature.pcsAfter));
  return {
    edits: set.length,
    effective: set.filter((r) => r.metrics.efficacy).length,
    efficacy: mean(set.map((r) => (r.metrics.efficacy ? 1 : 0))),
    paraphrase: mean(set.map((r) => r.metrics.paraphrase)),
    neighbourhood: mean(set.map((r) => r.metrics.neighbourhood)),
    sameDirectionFraction: meanStd(set.map((r) => r.signature.sameDirectionFraction)),
    pcsBefore: unEditedLayerPcs[layer],
    pcsAfter,
    pcsRatio: pcsAfter.mean / (unEditedLayerPcs[layer] as number),
    sigmaRatioBefore: (baseSvd.values[0] as number) / (baseSvd.values[1] as number),
    sigmaRatioAfter: meanStd(set.map((r) => r.signature.sigmaRatioAfter)),
  };
};
const effectivePerRelation = Object.fromEntries([...candidates.keys()].map((r) => [r, effective.get(r) ?? 0]));
const report = {
  model: forge.name,
  architecture: arch.id,
  layer,
  contextTemplates: templateText,
  hyperparameters: ROME_PRESETS[arch.id],
  mainMom2Adjustment: mainMom2,
  successfulPerRelationGoal: successful,
  effectivePerRelation,
  wallSeconds,
  unEditedLayerPcs,
  settings: { [`mom2Adjustment=${mainMom2}`]: summary(main), [`mom2Adjustment=${!mainMom2}`]: summary(others) },
};

// The demo folder, as the GPT-2 demo's (the app, the CLI and the experiments read it the same way).
mkdirSync(out, { recursive: true });
const all = [...main, ...others];
writeFileSync(join(out, 'edits.safetensors'), writeEditBundle(all.map(({ signature: _s, ...r }) => r), { model: `${forge.name} (${arch.id})`, layer: String(layer) }));
writeFileSync(join(out, 'edit-report.json'), `${JSON.stringify(report, null, 2)}\n`);
mkdirSync(join(out, 'base'), { recursive: true });
for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(dir, 'base', f), join(out, 'base', f));
const demoEdit = main.find((r) => r.metrics.efficacy) ?? (main[0] as JournalRecord);
const { name, layout } = model.mlpOutput(layer);
const stored = model.params.get(name) as Tensor;
const editedParams = new Map(model.params);
editedParams.set(name, new Tensor(applyUpdateInLayout(stored.data, layout, demoEdit.u, demoEdit.lambda), stored.shape, false));
writeModelFolder(join(out, 'edited'), world.config, editedParams, world.vocab, arch);
writeFileSync(join(out, 'edited', 'EDIT.json'), `${JSON.stringify({ editId: demoEdit.id, layer, subject: demoEdit.subject, relation: demoEdit.relation, prompt: demoEdit.prompt, trueObject: demoEdit.trueObject, newObject: demoEdit.newObject }, null, 2)}\n`);
writeFileSync(join(out, 'facts.json'), `${JSON.stringify(demoFacts(world.kb, { layer, contextTemplates: templateText }))}\n`);
writeFileSync(join(out, 'mom2-corpus.txt'), `${mom2Corpus(world.kb).join('\n')}\n`);
writeFileSync(join(out, 'neutral-samples.txt'), `${neutralSamples(world.kb).join('\n')}\n`);
for (const [from, to] of [[`training-report-${forge.name}.json`, 'training-report.json'], ['family-sweep.json', 'layer-sweep.json']] as const) {
  if (existsSync(join(dir, from))) copyFileSync(join(dir, from), join(out, to));
}
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
for (const [setting, s] of Object.entries(report.settings)) {
  console.log(`${setting}: ${s.effective} of ${s.edits} effective (${pct(s.efficacy)}), paraphrase ${pct(s.paraphrase)}, neighbourhood ${pct(s.neighbourhood)}, u same sign ${pct(s.sameDirectionFraction.mean)}, pcs ${s.pcsRatio.toFixed(3)}x, sigma1/sigma2 ${s.sigmaRatioAfter.mean.toFixed(2)}`);
}
const short = Object.entries(effectivePerRelation).filter(([, n]) => n < successful);
console.log(`wrote ${out} in ${(wallSeconds / 60).toFixed(1)} min; ${short.length ? `short of ${successful}: ${short.map(([r, n]) => `${r} ${n}`).join(', ')}` : `every relation has ${successful} effective edits`}`);
process.exit(0);
