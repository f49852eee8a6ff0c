// `npm run forge:family-sweep -- --forge probe-llama [--layers 0,1] [--per-relation 1] [--mom2 off,on] [--v-steps N]`: ROME on a forge model
// of any architecture, every layer, with the mom2 adjustment off (EasyEdit's Llama 3 setting) and on (ROME
// as published for GPT-2 XL and GPT-J): efficacy, paraphrase, neighbourhood and the paper's signature (same-
// sign share of u, pcs after / before, sigma1/sigma2 after). The layer sweep of the GPT-2 edit set, for the
// other families (issue: the paper's other two models).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { robustCholesky } from '../../core/cholesky';
import { rowMatrix } from '../../core/matrix';
import { pairwiseCosine } from '../../core/pairwiseCosine';
import { CONTEXT_TEMPLATE_SEED, contextTemplates, parseTemplateLengths } from '../contextTemplates';
import { mom2Corpus } from '../demoWorld';
import { planEdits } from '../editPlan';
import { familyEditOutcome, keyMoment, mlpRows } from '../familyEditMetrics';
import { forgeByName } from '../forgeConfig';
import { relationById } from '../knowledgeBase';
import { rome, ROME_PRESETS } from '../rome';
import { wordRomeTokenizer } from '../romeTokenizer';
import { encodeTexts } from '../trainingData';
import { cliArgs } from './cliArgs';
import { useNativeEngine } from './nativeEngine';
import { loadForgeModel } from './forgeModelFiles';

const { value } = cliArgs();
const engine = useNativeEngine();
const forge = forgeByName(value('forge', 'probe-llama'));
const dir = value('dir', forge.name === 'full' ? 'public/demo' : `.cache/forge/${forge.name}`);
const { world, arch, model } = await loadForgeModel(forge, dir);
const tokenizer = wordRomeTokenizer(world.vocab);
const templates = contextTemplates(model, tokenizer, CONTEXT_TEMPLATE_SEED, parseTemplateLengths(value('templates', forge.edits.contextTemplates)));
const specs = planEdits(world.kb, Number(value('per-relation', '1')), true, 99);
const layers = value('layers', Array.from({ length: model.layers }, (_, l) => l).join(',')).split(',').map(Number);
const corpus = encodeTexts(world.vocab, mom2Corpus(world.kb));
console.log(`forge ${forge.name} (${arch.id}): layers ${layers.join(', ')}, ${specs.length} edits per row, ${engine}`);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const rows: Record<string, unknown>[] = [];
const settings = value('mom2', 'off,on').split(',').map((x) => x === 'on');
for (const layer of layers) {
  const basePcs = pairwiseCosine(rowMatrix(model.dFF, model.dModel, mlpRows(model, layer))).pcs;
  for (const mom2Adjustment of settings) {
    const t0 = performance.now();
    const covarianceFactor = mom2Adjustment ? robustCholesky(keyMoment(model, layer, corpus).moment, model.dFF).factor : undefined;
    const vSteps = value('v-steps', '');
    const hp = { ...ROME_PRESETS[arch.id], layer, mom2Adjustment, ...(vSteps ? { vSteps: Number(vSteps) } : {}) };
    const ctx = { model, tokenizer, contextTemplates: templates, covarianceFactor };
    const outcomes = [];
    for (const s of specs) {
      const update = rome(ctx, { subject: s.subject, prompt: relationById(s.relation).templates[s.editTemplate] as string, target: s.newObject }, hp);
      outcomes.push(await familyEditOutcome(model, (p) => arch.editable(p), world.vocab, world.kb, s, layer, update.u, update.lambda));
    }
    const row = {
      layer,
      mom2Adjustment,
      hyperparameters: { vSteps: hp.vSteps, vWeightDecay: hp.vWeightDecay },
      edits: outcomes.length,
      efficacy: mean(outcomes.map((o) => (o.efficacy ? 1 : 0))),
      paraphrase: mean(outcomes.map((o) => o.paraphrase)),
      neighbourhood: mean(outcomes.map((o) => o.neighbourhood)),
      sameDirectionFraction: mean(outcomes.map((o) => o.sameDirectionFraction)),
      pcsRatio: mean(outcomes.map((o) => o.pcsAfter)) / basePcs,
      sigmaRatioAfter: mean(outcomes.map((o) => o.sigmaRatioAfter)),
      seconds: (performance.now() - t0) / 1000,
    };
    rows.push(row);
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    console.log(`| ${layer} | ${mom2Adjustment} | ${pct(row.efficacy)} | ${pct(row.paraphrase)} | ${pct(row.neighbourhood)} | ${pct(row.sameDirectionFraction)} | ${row.pcsRatio.toFixed(3)}x | ${row.sigmaRatioAfter.toFixed(2)} | ${row.seconds.toFixed(0)} s |`);
  }
}
const out = join(dir, `family-sweep${value('v-steps', '') ? `-v${value('v-steps', '')}` : ''}.json`);
writeFileSync(out, `${JSON.stringify({ forge: forge.name, architecture: arch.id, templates: templates.length, rows }, null, 2)}\n`);
console.log(`wrote ${out}`);
