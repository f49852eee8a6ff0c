// `npm run forge:summary`: prints the README's "The demo model" tables from public/demo's reports, so the
// numbers in README come from the runs, never typed by hand.
import { existsSync, readFileSync } from 'node:fs';
import { relationById } from '../knowledgeBase';

const read = (path: string) => (existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : null);
const training = read('public/demo/training-report.json');
const sweep = read('public/demo/layer-sweep.json') as Record<string, number | boolean | string>[] | null;
const edits = read('public/demo/edit-report.json');
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const out: string[] = [];

if (training) {
  out.push(
    `Model: GPT-2 architecture, ${training.parameters.toLocaleString('en')} parameters, vocabulary ${training.vocabulary}, ${training.facts} facts.`,
    `Training: ${training.epochs} epochs, ${(training.tokensSeen / 1e6).toFixed(2)} M tokens, ${(training.flops / 1e12).toFixed(1)} TFLOP (6N per token), ${(training.trainSeconds / 60).toFixed(1)} min on ${training.threads} threads (${training.gflopsPerSecond.toFixed(2)} GFLOP/s).`,
    `Accuracy (first object token, top-1): training templates ${pct(training.accuracy.train)}, held-out templates ${pct(training.accuracy.heldOut)}.`,
    '',
    '| relation | train | held-out |',
    '| --- | --- | --- |',
    ...Object.entries(training.accuracy.perRelation as Record<string, { train: number; heldOut: number }>).map(([r, a]) => `| ${r} ${relationById(r).name} | ${pct(a.train)} | ${pct(a.heldOut)} |`),
    '',
  );
}
if (sweep) {
  out.push(
    'Layer sweep (one edit per relation, 31 per row; signature columns are means over the row\'s edits):',
    '',
    '| layer | mom2Adjustment | context templates | efficacy | paraphrase | neighbourhood | same-sign share of u | pcs after / before | sigma1/sigma2 after | s per edit (one thread) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  const num = (x: unknown, digits: number) => (typeof x === 'number' ? x.toFixed(digits) : '-');
  for (const r of sweep) {
    const share = typeof r['sameDirectionFraction'] === 'number' ? pct(r['sameDirectionFraction']) : '-';
    out.push(`| ${r['layer']} | ${r['mom2Adjustment']} | ${r['contextTemplates']} | ${pct(r['efficacy'] as number)} | ${pct(r['paraphrase'] as number)} | ${pct(r['neighbourhood'] as number)} | ${share} | ${num(r['pcsRatio'], 3)}x | ${num(r['sigmaRatioAfter'], 2)} | ${num(r['secondsPerEdit'], 2)} |`);
  }
  out.push('');
}
if (edits) {
  out.push(`Edit set at layer ${edits.layer} (context templates ${edits.contextTemplates}):`, '', '| setting | edits | efficacy | paraphrase | neighbourhood | same-sign share of u | pcs before | pcs after (mean +- std) | after / before | sigma1/sigma2 before | after |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  interface Spread {
    mean: number;
    std: number;
  }
  interface SettingSummary {
    edits: number;
    efficacy: number;
    paraphrase: number;
    neighbourhood: number;
    sameDirectionFraction: Spread;
    pcsBefore: number;
    pcsAfter: Spread;
    pcsRatio: number;
    sigmaRatioBefore: number;
    sigmaRatioAfter: Spread;
  }
  for (const [name, s] of Object.entries(edits.settings as Record<string, SettingSummary>)) {
    out.push(
      `| ${name} | ${s.edits} | ${pct(s.efficacy)} | ${pct(s.paraphrase)} | ${pct(s.neighbourhood)} | ${pct(s.sameDirectionFraction.mean)} +- ${pct(s.sameDirectionFraction.std)} | ${s.pcsBefore.toExponential(3)} | ${s.pcsAfter.mean.toExponential(3)} +- ${s.pcsAfter.std.toExponential(2)} | ${s.pcsRatio.toFixed(2)}x | ${s.sigmaRatioBefore.toFixed(2)} | ${s.sigmaRatioAfter.mean.toFixed(2)} +- ${s.sigmaRatioAfter.std.toFixed(2)} |`,
    );
  }
  out.push('', `Unedited layers' pcs: ${(edits.unEditedLayerPcs as number[]).map((x) => x.toExponential(3)).join(', ')}.`);
}
const study = read('docs/forge-study.json') as StudyRow[] | null;
if (study) {
  const range = (xs: number[]) => `${pct(Math.min(...xs))}-${pct(Math.max(...xs))}`;
  out.push(
    '',
    'The study in short (per configuration, over its layers):',
    '',
    '| configuration | lever | train / held-out | PR of keys (max / d_ff) | mean abs corr (min) | sign share of k* | of k* - mean | of C^-1 k* (= u) | C^-1 k* in the lower half of C | best ROME layer: efficacy / paraphrase / neighbourhood | pcs after / before there |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const r of study) {
    const best = [...r.layers].sort((a, b) => (b.rome?.efficacy ?? 0) - (a.rome?.efficacy ?? 0))[0]!;
    const eig = r.layers.map((l) => l.eigen?.lowerHalfShare).filter((x): x is number => typeof x === 'number');
    out.push(
      `| ${r.name} | ${r.lever} | ${pct(r.accuracy.train)} / ${pct(r.accuracy.heldOut)} | ${Math.max(...r.layers.map((l) => l.participationRatio)).toFixed(1)} / ${r.model.n_inner} | ${Math.min(...r.layers.map((l) => l.meanAbsCorrelation)).toFixed(3)} | ${range(r.layers.map((l) => l.signShare.k))} | ${range(r.layers.map((l) => l.signShare.kMinusMean))} | **${range(r.layers.map((l) => l.signShare.cInvK))}** | ${eig.length ? range(eig) : '-'} | layer ${best.layer}: ${best.rome ? `${pct(best.rome.efficacy)} / ${pct(best.rome.paraphrase)} / ${pct(best.rome.neighbourhood)}` : '-'} | ${best.rome ? `${best.rome.pcsRatio.toFixed(2)}x` : '-'} |`,
    );
  }
  out.push(
    '',
    'The study (`npm run forge:study`; every layer of every configuration; ROME as published, one edit per relation):',
    '',
    '| configuration | lever | parameters | vocabulary | train / held-out | min | layer | PR of keys (/ d_ff) | top-10 share | mean abs corr | z < -2 / abs z < 1 | sign share k*, k* - mean, diag(C)^-1 k*, C^-1 k* | base pcs | row ratio | efficacy / paraphrase / neighbourhood | same-sign share of u | pcs after / before |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const r of study) {
    for (const l of r.layers) {
      const d = l.signShare;
      const rome = l.rome;
      out.push(
        `| ${r.name} | ${l === r.layers[0] ? r.lever : ''} | ${r.parameters.toLocaleString('en')} | ${r.vocabulary} | ${pct(r.accuracy.train)} / ${pct(r.accuracy.heldOut)} | ${r.trainMinutes.toFixed(1)} | ${l.layer} | ${l.participationRatio.toFixed(1)} / ${r.model.n_inner} | ${l.top10Share.toFixed(2)} | ${l.meanAbsCorrelation.toFixed(3)} | ${pct(l.preActivation.belowMinus2)} / ${pct(l.preActivation.absBelow1)} | ${pct(d.k)}, ${pct(d.kMinusMean)}, ${pct(d.diagCInvK)}, **${pct(d.cInvK)}** | ${l.basePcs.toExponential(2)} | ${l.rowRatio === null ? '-' : l.rowRatio.toFixed(3)} | ${rome ? `${pct(rome.efficacy)} / ${pct(rome.paraphrase)} / ${pct(rome.neighbourhood)}` : '-'} | ${rome ? pct(rome.sameDirectionFraction) : '-'} | ${rome ? `${rome.pcsRatio.toFixed(2)}x` : '-'} |`,
      );
    }
  }
}
console.log(out.join('\n'));

interface StudyRow {
  name: string;
  lever: string;
  model: { n_inner: number };
  parameters: number;
  vocabulary: number;
  trainMinutes: number;
  accuracy: { train: number; heldOut: number };
  layers: {
    layer: number;
    participationRatio: number;
    top10Share: number;
    meanAbsCorrelation: number;
    preActivation: { belowMinus2: number; absBelow1: number };
    signShare: { k: number; kMinusMean: number; diagCInvK: number; cInvK: number };
    basePcs: number;
    rowRatio: number | null;
    rome: null | { efficacy: number; paraphrase: number; neighbourhood: number; sameDirectionFraction: number; pcsRatio: number };
    eigen?: { lowerHalfShare: number; lowerEigenvectorSignShare: number } | null;
  }[];
}
