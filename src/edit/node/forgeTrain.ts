// `npm run forge:train [-- --smoke] [--threads 1|2] [--out DIR]`: trains the forge's GPT-2 on its synthetic
// facts, resuming from the last epoch checkpoint, and writes the model folder and a training report.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { factAccuracy } from '../factAccuracy';
import { decayMask, flatten, paramLayout, tensorsOver } from '../flatParams';
import { forgeByName } from '../forgeConfig';
import { forgeArchitecture } from '../forgeArchitecture';
import { localShard, newTrainState, train } from '../trainer';
import { cliArgs } from './cliArgs';
import { writeModelFolder } from './demoFiles';
import { forgeWorld } from './forgeWorld';
import { loadTrainState, saveTrainState } from './trainCheckpoint';
import { workerShard } from './workerShard';
import { corpusHash } from '../corpusHash';
import { useNativeEngine } from './nativeEngine';

const args = process.argv.slice(2);
const { flag, value } = cliArgs(args);

const forge = forgeByName(flag('smoke') ? 'smoke' : flag('probe') ? 'probe' : value('forge', 'full'));
const outDir = value('out', forge.name === 'full' ? 'public/demo/base' : `.cache/forge/${forge.name}/base`);
const threads = Number(value('threads', '2'));
const cacheDir = '.cache/forge';
mkdirSync(cacheDir, { recursive: true });

const engine = useNativeEngine();
const world = forgeWorld(forge);
const { config, kb, vocab, sequences } = world;
const arch = forgeArchitecture(forge.architecture ?? 'gpt2', config);
const layout = paramLayout(arch.paramShapes());
const shared = new SharedArrayBuffer(layout.size * 4);
const flat = new Float32Array(shared);
flatten(layout, arch.init(forge.initSeed), flat);
const state = newTrainState(flat, decayMask(layout), forge.train);
// The training text is part of the run's identity: a changed world must not resume an old checkpoint.
// The edit-set settings do not touch training, so they stay out of it.
const { edits: _edits, ...trainingForge } = forge;
const fingerprint = JSON.stringify({ forge: trainingForge, vocab: vocab.tokens.length, corpus: corpusHash(vocab.tokens, sequences) });
const checkpointPath = join(cacheDir, `${forge.name}-train.safetensors`);
const resumed = await loadTrainState(checkpointPath, state, fingerprint);
const tokensPerEpoch = sequences.reduce((a, s) => a + s.length - 1, 0);
const params = layout.size;
console.log(`forge ${forge.name} (${arch.id}): ${params} parameters, vocabulary ${vocab.tokens.length}, ${kb.facts.length} facts, ${tokensPerEpoch} tokens per epoch, ${threads} thread(s), ${engine}`);
if (resumed) console.log(`resuming after epoch ${state.epoch}`);

const shards = [localShard(arch, layout, flat)];
const worker = threads > 1 ? workerShard(arch.id, config, shared, layout.size) : null;
if (worker) shards.push(worker);
const sample = kb.facts.filter((_, i) => i % 4 === 0);
const model = tensorsOver(layout, flat);
let lastSample: ReturnType<typeof factAccuracy> | null = null;

/** The early-stop check after `epoch` (deterministic: a resumed run that had stopped stops again here). */
const checkStop = (epoch: number): string | null => {
  if (epoch < forge.stopAt.fromEpoch || (epoch - forge.stopAt.fromEpoch) % forge.stopAt.every !== 0) return null;
  lastSample = factAccuracy(arch.editable(model), vocab, kb, sample);
  const met = lastSample.train >= forge.stopAt.train && lastSample.heldOut >= forge.stopAt.heldOut;
  return `sampled accuracy train ${(lastSample.train * 100).toFixed(1)}%, held-out ${(lastSample.heldOut * 100).toFixed(1)}%${met ? ' (stop)' : ''}`;
};
const stoppedBefore = resumed && (checkStop(state.epoch)?.endsWith('(stop)') ?? false);
if (stoppedBefore) console.log(`the checkpoint after epoch ${state.epoch} had met the stop condition; not training further`);
else
  await train(state, sequences, shards, forge.train, {
    afterEpoch(s) {
      saveTrainState(checkpointPath, s, fingerprint);
      const h = s.history[s.history.length - 1]!;
      const gflops = (6 * params * h.tokens) / h.seconds / 1e9;
      const check = checkStop(s.epoch);
      console.log(`epoch ${s.epoch}/${forge.train.epochs}: loss ${h.loss.toFixed(4)}, ${h.seconds.toFixed(1)} s, ${gflops.toFixed(2)} GFLOP/s${check ? `; ${check}` : ''}`);
      return check?.endsWith('(stop)') ?? false;
    },
  });
await worker?.close();

const accuracy = factAccuracy(arch.editable(model), vocab, kb);
const trainSeconds = state.history.reduce((a, h) => a + h.seconds, 0);
const tokensSeen = state.history.reduce((a, h) => a + h.tokens, 0);
const report = {
  forge: forge.name,
  parameters: params,
  vocabulary: vocab.tokens.length,
  facts: kb.facts.length,
  epochs: state.epoch,
  tokensSeen,
  trainSeconds,
  flops: 6 * params * tokensSeen,
  gflopsPerSecond: (6 * params * tokensSeen) / trainSeconds / 1e9,
  threads,
  accuracy,
  history: state.history,
};
writeModelFolder(outDir, config, model, vocab, arch);
writeFileSync(join(outDir, '..', `training-report${forge.name === 'full' ? '' : `-${forge.name}`}.json`), `${JSON.stringify(report, null, 2)}\n`);
console.log(`accuracy: train ${(accuracy.train * 100).toFixed(2)}%, held-out ${(accuracy.heldOut * 100).toFixed(2)}%; ${state.epoch} epochs, ${(trainSeconds / 60).toFixed(1)} min, ${(report.flops / 1e12).toFixed(2)} TFLOP, ${report.gflopsPerSecond.toFixed(2)} GFLOP/s`);
console.log(`wrote ${outDir}`);
process.exit(0);
