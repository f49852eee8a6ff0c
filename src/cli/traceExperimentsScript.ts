/**
 * `npm run experiment:trace`: the paper's Tab. 1 and Fig. 6 on a demo model (TRACE_DIR, default public/demo;
 * public/demo-gptj and public/demo-llama for the other families), and the training-free object readout on
 * the same test sets. Writes DIR/trace-report.json, the trained relation probe (relation-probe.json) and the
 * decoder of the edited layer (object-decoder.safetensors) that the app loads. The probe reads weights only
 * and the decoder runs in the CPU engine (every family); the training-free readout writes into GPT-2's
 * forward and is skipped, with the reason in the report, for the other families.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { cpuOperator } from '../core/randomizedSvd';
import { rowMatrix } from '../core/matrix';
import { openEditBundle } from '../edit/editBundle';
import { loadEngineModel } from '../analysis/engineModel';
import { writeObjectDecoder } from '../analysis/objectDecoderFile';
import { serializeProbe } from '../analysis/relationProbeFile';
import { editsByRelation, PAPER_TABLE_1, relationProbeTable } from '../analysis/relationProbeTable';
import { probeEditsOf, probeTableOfBundle, trainProbeFromBundle } from '../analysis/relationProbeTraining';
import { decoderExperiment, objectSplits, trainingFreeExperiment } from '../analysis/traceExperiments';
import { loadTokenizerBeside } from '../analysis/textModel';
import { readLayerRows } from '../analysis/layerMatrix';
import { NodeFileSource, openCheckpointAt } from './nodeFileSource';

const DEMO = process.env['TRACE_DIR'] ?? 'public/demo';
const only = process.env['TRACE_ONLY']?.split(',');
const want = (part: string) => !only || only.includes(part);
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

const opened: NodeFileSource[] = [];
const { checkpoint, resolve } = await openCheckpointAt([`${DEMO}/base/model.safetensors`], opened);
const bundleSource = await NodeFileSource.open(`${DEMO}/edits.safetensors`);
opened.push(bundleSource);
const bundle = await openEditBundle(bundleSource);
const neutralTexts = (await readFile(`${DEMO}/neutral-samples.txt`, 'utf8')).split('\n').filter((l) => l.trim() !== '');
const reportPath = `${DEMO}/trace-report.json`;
const report: Record<string, unknown> = JSON.parse(await readFile(reportPath, 'utf8').catch(() => '{}'));

// The paper trains on 50 edits per relation and tests on 50 others; a bundle with fewer (the GPT-J and Llama
// demos have >= 50 effective per relation) splits what it has evenly, and the report says so.
const mainPerRelation = new Map<string, number>();
for (const e of bundle.edits) if (e.main) mainPerRelation.set(e.relation, (mainPerRelation.get(e.relation) ?? 0) + 1);
const fewest = Math.min(...mainPerRelation.values());
const half = Math.min(PAPER_TABLE_1.trainPerRelation, Math.floor(fewest / 2));
const table1 = { ...PAPER_TABLE_1, trainPerRelation: half, testPerRelation: half };
if (want('probe')) {
  const t0 = Date.now();
  report['relationProbe'] = { options: { ...table1, settings: undefined, ...table1.settings }, rows: await probeTableOfBundle(bundle, table1, (p) => p.done % 8 === 0 && log(`Tab. 1: ${p.done}/${p.total}`), () => undefined), seconds: (Date.now() - t0) / 1000 };
  // The demo's own edit stays out of training: tracing the demo is then a held-out prediction.
  const demoEdit = JSON.parse(await readFile(`${DEMO}/edited/EDIT.json`, 'utf8')) as { editId: number; layer: number };
  const base = await readLayerRows(checkpoint, demoEdit.layer);
  const probe = await trainProbeFromBundle(bundle, cpuOperator(rowMatrix(base.rows, base.cols, base.data)), Math.min(50, fewest - 1), undefined, () => undefined, [demoEdit.editId]);
  await writeFile(`${DEMO}/relation-probe.json`, serializeProbe(probe));
  log('relation probe written');
}
if (want('probe-value')) {
  // Ours: the same probe on the update's value direction lambda alone (u dropped), which carries the new
  // object while u, balanced in sign under ROME's C^-1, adds noise to every matrix inner product.
  const edits = await probeEditsOf(bundle, 0);
  const groups = editsByRelation(edits.map((e) => ({ relation: e.relation, u: [1], lambda: e.lambda })), 2 * half);
  report['relationProbeValueOnly'] = { rows: relationProbeTable(groups, table1) };
  log('Tab. 1 on lambda alone done');
}
const splits = objectSplits(bundle.edits.filter((e) => e.main), 11);
report['objectSplits'] = { idRelations: splits.idRelations, oodRelations: splits.oodRelations, train: splits.train.length, validation: splits.validation.length, test: splits.test.length, ood: splits.ood.length };
// The decoder runs on every engine family; the training-free readout writes into GPT-2's forward only.
const { model, gpt2 } = await loadEngineModel(checkpoint);
const inputs = { model, gpt2, tokenizer: await loadTokenizerBeside(resolve, checkpoint.label), bundle, neutralTexts };
if (want('free') && !gpt2) report['trainingFree'] = { skipped: `runs on the CPU engine's GPT-2 forward; this demo is ${model.family}` };
if (want('free') && gpt2) {
  report['trainingFree'] = await trainingFreeExperiment(inputs, splits, 2, log);
  log(`training-free: ${JSON.stringify(report['trainingFree'])}`);
}
if (want('decoder')) {
  const layers = Array.from({ length: model.layers }, (_, i) => i);
  const { results, decoders } = await decoderExperiment(inputs, splits, layers, log);
  report['decoder'] = results;
  const edited = decoders.find((d) => d.tunedLayer === d.editLayer) ?? decoders[0];
  if (edited) await writeFile(`${DEMO}/object-decoder.safetensors`, writeObjectDecoder(edited, { bundle: 'edits.safetensors' }));
}
await writeFile(reportPath, `${JSON.stringify(report, null, 1)}\n`);
for (const s of opened) await s.close();
log(`wrote ${reportPath}`);
