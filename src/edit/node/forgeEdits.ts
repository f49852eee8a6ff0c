// `npm run forge:edits [-- --smoke] [--sweep] [--layer L] [--threads 2] [--per-relation 100] [--compare 10]`
// Runs ROME over the edit set on both cores (resumable), then writes the edit bundle, the edited demo
// checkpoint and the forge report. `--sweep` instead measures efficacy per layer to choose the edit layer.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { rowMatrix } from '../../core/matrix';
import { pairwiseCosine } from '../../core/pairwiseCosine';
import { cpuOperator, randomizedSvd } from '../../core/randomizedSvd';
import { type EditRecord, writeEditBundle } from '../editBundle';
import { type EditSpec, planEdits } from '../editPlan';
import { meanStd } from '../../core/meanStd';
import { editSignature } from '../editSignatureStats';
import { forgeByName } from '../forgeConfig';
import { mlpOutputName } from '../gpt2Model';
import { neutralSamples } from '../neutralSamples';
import { applyUpdate } from '../rome';
import { Tensor } from '../engine/tensor';
import { writeDemoWorldFiles, writeModelFolder } from './demoFiles';
import { cliArgs } from './cliArgs';
import { forgeWorld } from './forgeWorld';
import { useNativeEngine } from './nativeEngine';
import { loadModel } from './romeSetup';
import { parseTemplateLengths } from '../contextTemplates';

useNativeEngine();

const args = process.argv.slice(2);
const { flag, value } = cliArgs(args);
const forge = forgeByName(flag('smoke') ? 'smoke' : flag('probe') ? 'probe' : value('forge', 'full'));
// --dir points at another model folder tree (e.g. a provisional model under .cache).
const demoDir = value('dir', forge.name === 'full' ? 'public/demo' : `.cache/forge/${forge.name}`);
const baseDir = join(demoDir, 'base');
const threads = Number(value('threads', '2'));
const world = forgeWorld(forge);
// ROME's context_template_length_params (kmeng01/rome: 5x10,10x10, i.e. 20 sampled prefixes + the bare prompt);
// the forge's default is in its configuration (README: why).
const templateText = value('templates', forge.edits.contextTemplates);
const templateLengths = parseTemplateLengths(templateText);
// Overrides of ROME's per-model v* settings (published for GPT-2 XL: lr 0.5, 20 steps).
const overrides: Record<string, number> = {};
if (args.includes('--v-lr')) overrides['vLr'] = Number(value('v-lr', '0.5'));
if (args.includes('--v-steps')) overrides['vSteps'] = Number(value('v-steps', '20'));
const base = await loadModel(baseDir, world);

/** Runs specs on `threads` workers at `layer`, calling `done` for each record as it arrives. */
async function runOnWorkers(specs: readonly EditSpec[], layer: number, done: (r: EditRecord) => void): Promise<void> {
  const queue = [...specs];
  const workers = Array.from({ length: Math.min(threads, specs.length) }, () => new Worker(new URL('./editWorker.ts', import.meta.url), { workerData: { forgeName: forge.name, modelDir: baseDir, layer, templateLengths, overrides } }));
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          const next = () => {
            const spec = queue.shift();
            if (spec) w.postMessage(spec);
            else void w.terminate().then(() => resolve());
          };
          w.on('message', (m: EditRecord | 'ready') => {
            if (m !== 'ready') done(m);
            next();
          });
          w.on('error', reject);
        }),
    ),
  );
}

const rate = (records: readonly EditRecord[], pick: (r: EditRecord) => number) => records.reduce((a, r) => a + pick(r), 0) / Math.max(1, records.length);

/** The paper's signature of a set of edits at `layer`: direction split of u, pcs after / before, sigma1/sigma2. */
async function signatureSummary(layer: number, set: readonly EditRecord[]) {
  const w = base.get(mlpOutputName(layer)) as Tensor;
  const [r, c] = w.shape as [number, number];
  const before = pairwiseCosine(rowMatrix(r, c, w.data)).pcs;
  const sig = await Promise.all(set.map((e) => editSignature(w.data, r, c, e)));
  return {
    sameDirectionFraction: meanStd(sig.map((x) => x.sameDirectionFraction)).mean,
    pcsRatio: meanStd(sig.map((x) => x.pcsAfter)).mean / before,
    sigmaRatioAfter: meanStd(sig.map((x) => x.sigmaRatioAfter)).mean,
  };
}

if (flag('sweep')) {
  // One edit per relation, per layer and setting: efficacy decides the edit layer (README, "The demo model").
  const perRelation = Number(value('per-relation', '1'));
  const rows: Record<string, unknown>[] = [];
  const layers = value('layers', Array.from({ length: world.config.n_layer }, (_, l) => l).join(',')).split(',').map(Number);
  const settings = value('settings', 'true,false').split(',').map((x) => x === 'true');
  for (const layer of layers) {
    for (const mom2 of settings) {
      const specs = planEdits(world.kb, perRelation, mom2, 99);
      const records: EditRecord[] = [];
      const t0 = performance.now();
      await runOnWorkers(specs, layer, (r) => records.push(r));
      const row = {
        layer,
        contextTemplates: templateText,
        ...overrides,
        mom2Adjustment: mom2,
        edits: records.length,
        efficacy: rate(records, (r) => (r.metrics.efficacy ? 1 : 0)),
        paraphrase: rate(records, (r) => r.metrics.paraphrase),
        neighbourhood: rate(records, (r) => r.metrics.neighbourhood),
        secondsPerEdit: (performance.now() - t0) / 1000 / Math.max(1, records.length) * Math.min(threads, specs.length),
        ...(await signatureSummary(layer, records)),
      };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  }
  // Rows accumulate in one file across runs (other layers, settings, templates or v* overrides); a row with
  // the same key is replaced.
  const sweepPath = join(demoDir, `layer-sweep${forge.name === 'full' ? '' : `-${forge.name}`}.json`);
  const key = (r: Record<string, unknown>) => JSON.stringify([r['layer'], r['mom2Adjustment'], r['contextTemplates'], r['vLr'], r['vSteps']]);
  const previous = existsSync(sweepPath) ? (JSON.parse(readFileSync(sweepPath, 'utf8')) as Record<string, unknown>[]) : [];
  const merged = [...previous.filter((p) => !rows.some((r) => key(r) === key(p))), ...rows];
  writeFileSync(sweepPath, `${JSON.stringify(merged, null, 2)}\n`);
  process.exit(0);
}

const layer = Number(value('layer', String(forge.edits.layer)));
const mainMom2 = value('main-mom2', String(forge.edits.mainMom2Adjustment)) === 'true';
const perRelation = Number(value('per-relation', String(forge.edits.perRelation)));
const compare = Number(value('compare', String(forge.edits.compare)));
const mainSpecs = planEdits(world.kb, perRelation, mainMom2, 2026);
const specs = [...mainSpecs, ...planEdits(world.kb, compare, !mainMom2, 2027, mainSpecs.length)];
mkdirSync('.cache/forge', { recursive: true });
const journal = `.cache/forge/${forge.name}-edits-layer${layer}-${mainMom2 ? 'mom2' : 'nomom2'}-${perRelation}-${compare}-t${templateText}.jsonl`;
const results = new Map<number, EditRecord>();
if (existsSync(journal)) {
  const lines = readFileSync(journal, 'utf8').split('\n').filter((l) => l);
  lines.forEach((line, i) => {
    let r;
    try {
      r = JSON.parse(line);
    } catch {
      // A run killed mid-write leaves a partial last line: that edit is simply done again.
      if (i === lines.length - 1) return;
      throw new Error(`${journal}: line ${i + 1} is not a JSON record; delete the journal to start over`);
    }
    results.set(r.id, { ...r, u: Float32Array.from(r.u), lambda: Float32Array.from(r.lambda) });
  });
}
const todo = specs.filter((s) => !results.has(s.id));
console.log(`edit set: ${specs.length} edits at layer ${layer} (${mainSpecs.length} main with mom2Adjustment=${mainMom2}); ${results.size} done, ${todo.length} to go, ${threads} threads`);
const t0 = performance.now();
let count = 0;
await runOnWorkers(todo, layer, (r) => {
  r.main = r.mom2Adjustment === mainMom2;
  results.set(r.id, r);
  appendFileSync(journal, `${JSON.stringify({ ...r, u: Array.from(r.u), lambda: Array.from(r.lambda) })}\n`);
  if (++count % 50 === 0) console.log(`${count}/${todo.length} edits, ${((performance.now() - t0) / 1000 / count).toFixed(2)} s each`);
});
const elapsed = (performance.now() - t0) / 1000;
const records = specs.map((s) => results.get(s.id) as EditRecord);

// The paper's signature, per setting: direction split of u, pcs and sigma1/sigma2 of the edited layer.
const weight = base.get(mlpOutputName(layer)) as Tensor;
const [rows, cols] = weight.shape as [number, number];
const layerPcs = Array.from({ length: world.config.n_layer }, (_, l) => {
  const w = base.get(mlpOutputName(l)) as Tensor;
  return pairwiseCosine(rowMatrix(w.shape[0] as number, w.shape[1] as number, w.data)).pcs;
});
const baseSvd = await randomizedSvd(cpuOperator(rowMatrix(rows, cols, weight.data)), { k: 2, oversampling: 8, powerIterations: 4 });
const summary = async (set: EditRecord[]) => {
  const sig = await Promise.all(set.map((r) => editSignature(weight.data, rows, cols, r)));
  const pcsAfter = meanStd(sig.map((s) => s.pcsAfter));
  return {
    edits: set.length,
    efficacy: rate(set, (r) => (r.metrics.efficacy ? 1 : 0)),
    paraphrase: rate(set, (r) => r.metrics.paraphrase),
    neighbourhood: rate(set, (r) => r.metrics.neighbourhood),
    sameDirectionFraction: meanStd(sig.map((s) => s.sameDirectionFraction)),
    pcsBefore: layerPcs[layer],
    pcsAfter,
    pcsRatio: pcsAfter.mean / (layerPcs[layer] as number),
    sigmaRatioBefore: (baseSvd.values[0] as number) / (baseSvd.values[1] as number),
    sigmaRatioAfter: meanStd(sig.map((s) => s.sigmaRatioAfter)),
  };
};
const report = {
  layer,
  contextTemplates: templateText,
  mainMom2Adjustment: mainMom2,
  secondsPerEdit: todo.length ? (elapsed * Math.min(threads, todo.length)) / todo.length : null,
  wallSeconds: elapsed,
  unEditedLayerPcs: layerPcs,
  settings: {
    [`mom2Adjustment=${mainMom2}`]: await summary(records.filter((r) => r.main)),
    [`mom2Adjustment=${!mainMom2}`]: await summary(records.filter((r) => !r.main)),
  },
};
writeFileSync(join(demoDir, `edit-report${forge.name === 'full' ? '' : `-${forge.name}`}.json`), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(demoDir, 'edits.safetensors'), writeEditBundle(records, { model: 'forge base', layer: String(layer) }));
// The demo's edited checkpoint: the first successful main edit, applied to the base model.
const demoEdit = records.find((r) => r.main && r.metrics.efficacy) ?? (records[0] as EditRecord);
const editedParams = new Map(base);
editedParams.set(mlpOutputName(layer), new Tensor(applyUpdate(weight.data, demoEdit.u, demoEdit.lambda), weight.shape));
writeModelFolder(join(demoDir, 'edited'), world.config, editedParams, world.vocab);
writeFileSync(join(demoDir, 'edited', 'EDIT.json'), `${JSON.stringify({ editId: demoEdit.id, layer, subject: demoEdit.subject, relation: demoEdit.relation, prompt: demoEdit.prompt, trueObject: demoEdit.trueObject, newObject: demoEdit.newObject }, null, 2)}\n`);
// Neutral text for the unique-predictions test (one sample per line).
writeFileSync(join(demoDir, 'neutral-samples.txt'), `${neutralSamples(world.kb).join('\n')}\n`);
writeDemoWorldFiles(demoDir, world, base, { layer, contextTemplates: templateText });
console.log(JSON.stringify(report.settings, null, 2));
process.exit(0);
