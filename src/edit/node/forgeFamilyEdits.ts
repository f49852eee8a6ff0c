// `npm run forge:family-edits -- --forge full-llama [--layer 0] [--per-relation 4] [--mom2 off]`: an edit set for a
// forge model of any architecture, ROME with the family's published hyper-parameters, in the bundle format
// (`DIR/edits.safetensors`): each edit on the unedited model, with its metrics; the detection experiment
// (`npm run experiment:detection` with DETECTION_DIR) rebuilds and scans them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { robustCholesky } from '../../core/cholesky';
import { CONTEXT_TEMPLATE_SEED, contextTemplates, parseTemplateLengths } from '../contextTemplates';
import { mom2Corpus } from '../demoWorld';
import { type EditRecord, writeEditBundle } from '../editBundle';
import { planEdits } from '../editPlan';
import { familyEditOutcome, keyMoment } from '../familyEditMetrics';
import { forgeByName } from '../forgeConfig';
import { relationById } from '../knowledgeBase';
import { rome, ROME_PRESETS } from '../rome';
import { wordRomeTokenizer } from '../romeTokenizer';
import { encodeTexts } from '../trainingData';
import { cliArgs } from './cliArgs';
import { loadForgeModel } from './forgeModelFiles';
import { useNativeEngine } from './nativeEngine';

const { value } = cliArgs();
const engine = useNativeEngine();
const forge = forgeByName(value('forge', 'full-llama'));
const dir = value('dir', `.cache/forge/${forge.name}`);
const { world, arch, model } = await loadForgeModel(forge, dir);
const layer = Number(value('layer', '0'));
const mom2Adjustment = value('mom2', arch.id === 'llama' ? 'off' : 'on') === 'on';
const tokenizer = wordRomeTokenizer(world.vocab);
const templates = contextTemplates(model, tokenizer, CONTEXT_TEMPLATE_SEED, parseTemplateLengths(value('templates', forge.edits.contextTemplates)));
const covarianceFactor = mom2Adjustment ? robustCholesky(keyMoment(model, layer, encodeTexts(world.vocab, mom2Corpus(world.kb))).moment, model.dFF).factor : undefined;
const hp = { ...ROME_PRESETS[arch.id], layer, mom2Adjustment };
const specs = planEdits(world.kb, Number(value('per-relation', '4')), mom2Adjustment, 1234);
console.log(`forge ${forge.name} (${arch.id}): ${specs.length} edits at layer ${layer}, mom2 ${mom2Adjustment ? 'on' : 'off'}, ${hp.vSteps} v* steps, ${engine}`);
const records: EditRecord[] = [];
const t0 = performance.now();
for (const s of specs) {
  const relation = relationById(s.relation);
  const fact = world.kb.facts[s.factIndex] as (typeof world.kb.facts)[number];
  const update = rome({ model, tokenizer, contextTemplates: templates, covarianceFactor }, { subject: s.subject, prompt: relation.templates[s.editTemplate] as string, target: s.newObject }, hp);
  const o = await familyEditOutcome(model, (p) => arch.editable(p), world.vocab, world.kb, s, layer, update.u, update.lambda);
  records.push({
    id: s.id,
    relation: s.relation,
    subject: s.subject,
    prompt: relation.templates[s.editTemplate] as string,
    paraphrase: relation.templates[fact.heldOutTemplate] as string,
    trueObject: s.trueObject,
    newObject: s.newObject,
    layer,
    mom2Adjustment,
    main: true,
    metrics: { efficacy: o.efficacy, paraphrase: o.paraphrase, neighbourhood: o.neighbourhood, steps: update.steps, finalLoss: update.finalLoss, deltaRatio: update.deltaRatio },
    u: update.u,
    lambda: update.lambda,
  });
  if (records.length % 25 === 0) console.log(`  ${records.length}/${specs.length} (${((performance.now() - t0) / 1000 / records.length).toFixed(1)} s each)`);
}
const out = join(dir, 'edits.safetensors');
writeFileSync(out, writeEditBundle(records, { model: `${forge.name} (${arch.id})`, layer: String(layer) }));
const share = (f: (r: EditRecord) => boolean) => `${((100 * records.filter(f).length) / records.length).toFixed(1)}%`;
console.log(`wrote ${out}: efficacy ${share((r) => r.metrics.efficacy)}, ${((performance.now() - t0) / 60000).toFixed(1)} min`);
