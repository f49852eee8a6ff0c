// `npm run forge:trace [-- --probe | --dir DIR]`: causal tracing of a forge model over a sample of facts it
// knows; prints where restoring one clean state recovers the object (the edit layer's evidence).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { causalTrace, type TracePrompt } from '../causalTrace';
import { forgeByName } from '../forgeConfig';
import { cliArgs } from './cliArgs';
import { trainedTemplate } from '../editPlan';
import { prompt, relationById } from '../knowledgeBase';
import { nextTokens } from '../predict';
import { encodeWords, END_OF_TEXT } from '../wordTokenizer';
import { forgeWorld } from './forgeWorld';
import { loadModel } from './romeSetup';

const args = process.argv.slice(2);
const { flag, value } = cliArgs(args);
const forge = forgeByName(flag('smoke') ? 'smoke' : flag('probe') ? 'probe' : value('forge', 'full'));
const dirIndex = args.indexOf('--dir');
const dir = dirIndex >= 0 ? (args[dirIndex + 1] as string) : forge.name === 'full' ? 'public/demo' : `.cache/forge/${forge.name}`;
const world = forgeWorld(forge);
const params = await loadModel(join(dir, 'base'), world);
const eot = world.vocab.ids.get(END_OF_TEXT) as number;
const candidates: TracePrompt[] = world.kb.facts
  .filter((_, i) => i % Math.max(1, Math.floor(world.kb.facts.length / 120)) === 0)
  .map((fact) => {
    const template = relationById(fact.relation).templates[trainedTemplate(fact)] as string;
    const before = encodeWords(world.vocab, template.slice(0, template.indexOf('{}')));
    const subject = encodeWords(world.vocab, fact.subject);
    return {
      ids: Int32Array.from([eot, ...encodeWords(world.vocab, prompt(template, fact.subject))]),
      subjectFrom: 1 + before.length,
      subjectTo: 1 + before.length + subject.length,
      object: world.vocab.ids.get(fact.object) as number,
    };
  });
const predicted = nextTokens(world.config, params, candidates.map((c) => c.ids));
const known = candidates.filter((c, i) => predicted[i] === c.object).slice(0, 60);
const table = causalTrace(world.config, params, known, 3);
console.log(`${table.prompts} known facts: p(object) clean ${table.cleanProbability.toFixed(3)}, subject corrupted ${table.corruptedProbability.toFixed(3)}`);
console.log('recovered p when the residual after layer l is restored at: subject last | earlier subject | last position | other');
table.recovered.forEach((row, l) => console.log(`layer ${l}: ${row.map((x) => x.toFixed(3)).join(' | ')}`));
writeFileSync(join(dir, `causal-trace${forge.name === 'full' ? '' : `-${forge.name}`}.json`), `${JSON.stringify(table, null, 2)}\n`);
process.exit(0);
