// `npm run forge:diagnose [-- --forge probe | --dir DIR] [--layers 0,1] [--no-rome] [--per-relation 1] [--corpus facts]`:
// the key diagnostics of a forge model per layer (participation ratio, correlation, sign shares of k* through
// C^-1, k*'s distance from C's text, saturation, base pcs) and, unless --no-rome, ROME as published (mom2
// adjustment on) on one edit per relation with its efficacy and signature. Minutes, where an edit set takes an
// hour: it predicts the signature. Writes docs/key-diagnostics-demo.json for the demo, else key-diagnostics-NAME.json
// beside the model. `--corpus facts` takes C over the neutral text plus one training sentence
// of every fact (text that states the subjects' facts, as Wikipedia does for GPT-2 XL's C) instead of the
// neutral text alone (file names end in -facts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { meanStd } from '../../core/meanStd';
import { planEdits } from '../editPlan';
import { editSignature } from '../editSignatureStats';
import type { Tensor } from '../engine/tensor';
import { forgeByName } from '../forgeConfig';
import { mlpOutputName } from '../gpt2Model';
import { keyDiagnostics } from '../keyDiagnostics';
import { relationById, trainingSentences } from '../knowledgeBase';
import { mom2Corpus } from '../demoWorld';
import { computeLeftVector, ROME_DEFAULTS } from '../rome';
import { runEdit } from '../runEdit';
import { cliArgs } from './cliArgs';
import { forgeWorld } from './forgeWorld';
import { useNativeEngine } from './nativeEngine';
import { loadModel, romeContext } from './romeSetup';
import { parseTemplateLengths } from '../contextTemplates';

const { flag, value } = cliArgs();
const engine = useNativeEngine();
const forge = forgeByName(flag('smoke') ? 'smoke' : flag('probe') ? 'probe' : value('forge', 'full'));
const dir = value('dir', forge.name === 'full' ? 'public/demo' : `.cache/forge/${forge.name}`);
const world = forgeWorld(forge);
const params = await loadModel(join(dir, 'base'), world);
const layers = value('layers', Array.from({ length: world.config.n_layer }, (_, l) => l).join(',')).split(',').map(Number);
const templateLengths = parseTemplateLengths(value('templates', forge.edits.contextTemplates));
const corpusChoice = value('corpus', 'neutral');
if (corpusChoice !== 'neutral' && corpusChoice !== 'facts') throw new Error(`--corpus ${corpusChoice}: expected neutral or facts`);
const withFacts = corpusChoice === 'facts';
// One training sentence per fact (its first trained template), after the neutral text ROME's C is usually taken over.
const corpus = withFacts ? [...mom2Corpus(world.kb), ...world.kb.facts.map((f) => trainingSentences(f)[0] as string)] : mom2Corpus(world.kb);
const specs = planEdits(world.kb, Number(value('per-relation', '1')), true, 99);
console.log(`forge ${forge.name} (${dir}): C over ${withFacts ? 'the neutral text and a sentence per fact' : 'the neutral text'}, layers ${layers.join(', ')}, ${specs.length} sampled edits, ${engine}`);

const rows = [];
for (const layer of layers) {
  const t0 = performance.now();
  const ctx = romeContext(world, params, layer, templateLengths, corpus);
  const hp = { ...ROME_DEFAULTS, layer, mom2Adjustment: true };
  const requests = specs.map((s) => ({ subject: s.subject, prompt: relationById(s.relation).templates[s.editTemplate] as string, target: s.newObject }));
  const kStars = requests.map((r) => computeLeftVector(ctx, r, hp).kStar);
  const records = flag('no-rome') ? [] : specs.map((s) => runEdit(ctx, world.kb, s, layer));
  const weight = params.get(mlpOutputName(layer)) as Tensor;
  const diagnostics = await keyDiagnostics({ layer, stats: ctx.keyStatistics, covarianceFactor: ctx.covarianceFactor as Float64Array, kStars, weight: weight.data, updates: records });
  let rome = null;
  if (records.length) {
    const [r, c] = weight.shape as [number, number];
    const sig = await Promise.all(records.map((e) => editSignature(weight.data, r, c, e)));
    rome = {
      efficacy: records.filter((e) => e.metrics.efficacy).length / records.length,
      paraphrase: meanStd(records.map((e) => e.metrics.paraphrase)).mean,
      neighbourhood: meanStd(records.map((e) => e.metrics.neighbourhood)).mean,
      sameDirectionFraction: meanStd(sig.map((x) => x.sameDirectionFraction)).mean,
      pcsRatio: meanStd(sig.map((x) => x.pcsAfter)).mean / diagnostics.basePcs,
      sigmaRatioAfter: meanStd(sig.map((x) => x.sigmaRatioAfter)).mean,
    };
  }
  const row = { ...diagnostics, rome, seconds: (performance.now() - t0) / 1000 };
  rows.push(row);
  const f = (x: number, digits = 3) => x.toFixed(digits);
  console.log(
    `layer ${layer}: PR ${f(diagnostics.participationRatio, 1)}/${world.config.n_inner}, top-10 ${f(diagnostics.top10Share)}, |corr| ${f(diagnostics.meanAbsCorrelation)}, z<-2 ${f(diagnostics.preActivation.belowMinus2)}, |z|<1 ${f(diagnostics.preActivation.absBelow1)}, z>1 ${f(diagnostics.preActivation.above1)}; ` +
      (diagnostics.eigen ? `C^-1 k* in C's lower half ${f(diagnostics.eigen.lowerHalfShare)} (those eigenvectors ${f(diagnostics.eigen.lowerEigenvectorSignShare)} one sign); ` : '') +
      `k* distance ${f(diagnostics.kStarDistance, 2)}; sign share k* ${f(diagnostics.signShare.k)}, k*-mean ${f(diagnostics.signShare.kMinusMean)}, diag(C)^-1 k* ${f(diagnostics.signShare.diagCInvK)}, C^-1 k* ${f(diagnostics.signShare.cInvK)}; base pcs ${diagnostics.basePcs.toExponential(2)}` +
      (rome ? `; row ratio ${f(diagnostics.rowRatio as number)}; ROME efficacy ${f(rome.efficacy)}, paraphrase ${f(rome.paraphrase)}, neighbourhood ${f(rome.neighbourhood)}, pcs x${f(rome.pcsRatio, 2)}, sigma1/sigma2 ${f(rome.sigmaRatioAfter, 2)}` : '') +
      ` (${f(row.seconds, 1)} s)`,
  );
}
// The demo's rows go to docs/ (public/demo holds only what the app serves); a forge model's beside it.
const out = forge.name === 'full' ? `docs/key-diagnostics-demo${withFacts ? '-facts' : ''}.json` : join(dir, `key-diagnostics-${forge.name}${withFacts ? '-facts' : ''}.json`);
writeFileSync(out, `${JSON.stringify(rows, null, 2)}\n`);
console.log(`wrote ${out}`);
process.exit(0);
