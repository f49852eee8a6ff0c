// `npm run forge:study [-- --only probe,probe-wide]`: the demo-model study (README "What makes ROME's u
// one-signed"). For each configuration: train it (resumable; skipped when its model exists), then the key
// diagnostics with ROME on one edit per relation at every layer; the rows go to docs/forge-study.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { forgeByName, STUDY } from '../forgeConfig';
import { cliArgs } from './cliArgs';

const { value } = cliArgs();
const names = value('only', STUDY.map((s) => s.name).join(',')).split(',');
const out = 'docs/forge-study.json';
mkdirSync('docs', { recursive: true });
const previous: Record<string, unknown>[] = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : [];
const rows = new Map(previous.map((r) => [r['name'] as string, r]));

const run = (script: string, args: string[]) => {
  const r = spawnSync(process.execPath, ['--import', './scripts/node-register.mjs', `src/edit/node/${script}.ts`, ...args], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${script} ${args.join(' ')} failed (exit ${r.status})`);
};

for (const name of names) {
  const forge = forgeByName(name);
  const lever = STUDY.find((s) => s.name === name)?.lever ?? '';
  const dir = `.cache/forge/${name}`;
  if (!existsSync(join(dir, 'base', 'model.safetensors'))) run('forgeTrain', ['--forge', name]);
  run('forgeDiagnose', ['--forge', name]);
  const training = JSON.parse(readFileSync(join(dir, `training-report-${name}.json`), 'utf8'));
  const layers = JSON.parse(readFileSync(join(dir, `key-diagnostics-${name}.json`), 'utf8'));
  rows.set(name, {
    name,
    lever,
    model: forge.model,
    dropout: forge.train.dropout ?? 0,
    english: forge.english ?? null,
    parameters: training.parameters,
    vocabulary: training.vocabulary,
    epochs: training.epochs,
    tokensSeen: training.tokensSeen,
    trainMinutes: training.trainSeconds / 60,
    accuracy: { train: training.accuracy.train, heldOut: training.accuracy.heldOut },
    layers,
  });
  writeFileSync(out, `${JSON.stringify([...rows.values()], null, 2)}\n`);
  console.log(`study: ${name} done`);
}
process.exit(0);
