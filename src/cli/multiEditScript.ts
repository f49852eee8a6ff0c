/**
 * `npm run experiment:multi-edit`: 1, 2, 5 and 10 sequential ROME edits in one matrix of the demo model
 * (the paper studies single edits only), each count over TRIALS random sets of facts, with the mom2
 * adjustment on (as published) and off. Writes docs/multi-edit.json and prints README's table.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { EditSession } from '../analysis/editSession';
import { type MultiEditTrial, multiEditTrial } from '../analysis/multiEdit';
import { parseProbe } from '../analysis/relationProbeFile';
import { loadTokenizerBeside } from '../analysis/textModel';
import { backendForNode } from './backendForNode';
import { NodeFileSource, openCheckpointAt } from './nodeFileSource';

const DEMO = 'public/demo';
const COUNTS = [1, 2, 5, 10];
const trials = Number(process.env['TRIALS'] ?? 4);
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

const opened: NodeFileSource[] = [];
const open = async (path: string) => {
  const source = await NodeFileSource.open(path);
  opened.push(source);
  return source;
};
const input = await openCheckpointAt([`${DEMO}/base`], opened);
const session = new EditSession();
const info = await session.open({ model: { kind: 'opened', input }, corpus: null, stats: { kind: 'source', source: await open(`${DEMO}/mom2-stats.safetensors`) }, facts: { kind: 'source', source: await open(`${DEMO}/facts.json`) } });
if (!info.facts) throw new Error('the demo has no facts.json');
const backend = await backendForNode('cpu');
const tokenizer = await loadTokenizerBeside(input.resolve, input.checkpoint.label);
const probe = parseProbe('relation-probe.json', await readFile(`${DEMO}/relation-probe.json`, 'utf8'));
const decoder = await open(`${DEMO}/object-decoder.safetensors`);
log(`demo model: ${info.layers} layers, d_ff ${info.dFF}; edits at layer ${info.defaultLayer}, templates ${info.defaultContextTemplates}; ${backend.description}`);

const results: { mom2Adjustment: boolean; trials: MultiEditTrial[] }[] = [];
const started = Date.now();
for (const mom2Adjustment of [true, false]) {
  const list: MultiEditTrial[] = [];
  for (const n of COUNTS) {
    for (let t = 0; t < trials; t++) {
      const world = { session, facts: info.facts, layer: info.defaultLayer, mom2Adjustment, contextTemplates: info.defaultContextTemplates, backend, tokenizer, probe, decoder };
      const r = await multiEditTrial(world, n, t, 1000 * n + t);
      list.push(r);
      log(`mom2 ${mom2Adjustment ? 'on ' : 'off'} n=${n} trial ${t}: efficacy ${r.efficacy.toFixed(2)}, flagged ${r.flagged}, s1/s2 ${r.sigmaRatio.toFixed(2)} (z ${r.sigmaRatioZ.toFixed(1)}), diff rank ${r.diffRank}, reversal k=n restores ${r.reversal[r.reversal.length - 1]?.restored.toFixed(2)}`);
    }
  }
  results.push({ mom2Adjustment, trials: list });
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
const shareOf = (xs: (boolean | null)[]) => {
  const known = xs.filter((x): x is boolean => x !== null);
  return known.length ? pct(known.filter(Boolean).length / known.length) : '-';
};
const summary = results.map(({ mom2Adjustment, trials: list }) => ({
  mom2Adjustment,
  rows: COUNTS.map((n) => {
    const rs = list.filter((r) => r.edits === n);
    const reversalAt = (k: number) => rs.map((r) => r.reversal.find((x) => x.k === k)).filter((x) => x !== undefined);
    return {
      edits: n,
      trials: rs.length,
      efficacy: mean(rs.map((r) => r.efficacy)),
      efficacyWhenMade: mean(rs.map((r) => r.efficacyWhenMade)),
      flagged: rs.filter((r) => r.flagged).length / rs.length,
      // The cross-layer rules alone (the verdict before the key-whitened rule), and the keys gap.
      flaggedCrossLayer: rs.filter((r) => r.reasons.some((x) => x !== 'keys')).length / rs.length,
      keyGap: mean(rs.map((r) => r.keyGap)),
      falseFlags: mean(rs.map((r) => r.falseFlags)),
      sigmaRatio: mean(rs.map((r) => r.sigmaRatio)),
      sigmaRatioZ: mean(rs.map((r) => r.sigmaRatioZ)),
      spikeGap: mean(rs.map((r) => r.spikeGap)),
      diffRank: mean(rs.map((r) => r.diffRank)),
      exactRank: rs.filter((r) => r.diffRank === n).length / rs.length,
      reversalK1: { restored: mean(reversalAt(1).map((x) => x.restored)), stillNew: mean(reversalAt(1).map((x) => x.stillNew)) },
      reversalKn: { restored: mean(reversalAt(n).map((x) => x.restored)), stillNew: mean(reversalAt(n).map((x) => x.stillNew)) },
      probeTopInEdits: shareOf(rs.map((r) => r.probeTopInEdits)),
      probeTopIsLast: shareOf(rs.map((r) => r.probeTopIsLast)),
      readoutTopInTargets: shareOf(rs.map((r) => r.readoutTopInTargets)),
      decoderTopInTargets: shareOf(rs.map((r) => r.decoderTopInTargets)),
      uSameSign: mean(rs.map((r) => r.uSameSign)),
    };
  }),
}));
await writeFile('docs/multi-edit.json', `${JSON.stringify({ generated: 'npm run experiment:multi-edit', trialsPerCount: trials, layer: info.defaultLayer, contextTemplates: info.defaultContextTemplates, seconds: (Date.now() - started) / 1000, summary, results }, null, 1)}\n`);

console.log('\n| mom2 | edits | efficacy (all n at the end / each when made) | flagged (cross-layer rules alone) | keys gap | s1/s2 (z) | s_n/s_n+1 of W\' | rank of dW = n | reversal k=1: old back / new kept | k=n: old back / new kept | probe: top relation among the edits\' | decoder: top object among the new |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const { mom2Adjustment, rows } of summary) {
  for (const r of rows) {
    console.log(`| ${mom2Adjustment ? 'on' : 'off'} | ${r.edits} | ${pct(r.efficacy)} / ${pct(r.efficacyWhenMade)} | ${pct(r.flagged)} (${pct(r.flaggedCrossLayer)}) | ${r.keyGap.toFixed(2)} | ${r.sigmaRatio.toFixed(2)} (${r.sigmaRatioZ.toFixed(1)}) | ${r.spikeGap.toFixed(2)} | ${pct(r.exactRank)} | ${pct(r.reversalK1.restored)} / ${pct(r.reversalK1.stillNew)} | ${pct(r.reversalKn.restored)} / ${pct(r.reversalKn.stillNew)} | ${r.probeTopInEdits} | ${r.decoderTopInTargets} |`);
  }
}
await Promise.all(opened.map((s) => s.close()));
process.exit(0);
