/**
 * `npm run experiment:three-columns`: the paper's tables with our three demo models (GPT-2, GPT-J, Llama)
 * beside its three (GPT-2 XL, GPT-J, Llama 3), as README prints them. It measures nothing itself: it reads
 * what the experiments wrote (each demo folder's edit-report.json and trace-report.json, docs/reversal-*.json
 * from `edit-forensics reverse --json`, docs/detection*.json from experiment:detection) and says which
 * file a missing column needs. The paper's numbers are its published tables.
 */
import { existsSync, readFileSync } from 'node:fs';

interface Demo {
  label: string;
  dir: string;
  reversal: string;
  unique: string;
  detection: string;
}
const DEMOS: Demo[] = [
  { label: 'GPT-2 (ours)', dir: 'public/demo', reversal: 'docs/reversal-demo.json', unique: 'docs/unique-demo.json', detection: 'docs/detection.json' },
  { label: 'GPT-J (ours)', dir: 'public/demo-gptj', reversal: 'docs/reversal-demo-gptj.json', unique: 'docs/unique-demo-gptj.json', detection: 'docs/detection-gptj.json' },
  { label: 'Llama (ours)', dir: 'public/demo-llama', reversal: 'docs/reversal-demo-llama.json', unique: 'docs/unique-demo-llama.json', detection: 'docs/detection-llama.json' },
];
const PAPER_MODELS = ['GPT-2 XL (paper)', 'GPT-J (paper)', 'Llama 3 8B (paper)'];

// The paper's published numbers (Fig. 2 text, Tab. 6 means over its 31 relations, Tab. 1, Fig. 6 text, Tab. 2, Tab. 5, Fig. 8 text).
const PAPER = {
  sameSign: ['> 80%', '> 80%', '~50%'],
  pcsUnedited: [0.000091, 0.000194, 0],
  pcsEditedMean: [0.008409, 0.002296, -3.94e-7],
  tab1: {
    2: ['99.40 +- 0.55', '96.00 +- 4.64', '92.40 +- 11.63'],
    3: ['96.67 +- 5.25', '96.67 +- 1.25', '85.07 +- 2.09'],
    5: ['90.32 +- 10.91', '92.24 +- 3.12', '78.56 +- 5.44'],
    10: ['84.64 +- 4.00', '83.20 +- 2.77', '56.72 +- 4.25'],
    15: ['76.19 +- 5.37', '72.77 +- 2.29', '44.05 +- 2.72'],
    20: ['72.94 +- 1.92', '68.10 +- 2.12', '33.36 +- 1.53'],
    25: ['67.84 +- 1.95', '63.39 +- 1.22', '29.11 +- 1.32'],
    30: ['64.88 +- 1.37', '57.20 +- 1.16', '26.59 +- 1.27'],
  } as Record<number, string[]>,
  decoder: ['99% ID', '99% ID, OOD -2 p.p.', '> 97% ID, OOD -3 p.p.'],
  reversalK1: ['87.10', '32.26', '5.48'],
  reversalBest: ['94.52 (k = 11)', '80.00 (k = 14)', '80.00 (k = 15)'],
  editingK1: ['7.42', '60.65', '95.48'],
  similarity: { 1: ['0.98', '0.77', '0.20'], 2: ['0.07', '0.45', '0.37'] } as Record<number, string[]>,
  unique: ['-', '2.46 edited / 1.37 unedited', '1.84 edited / 1.36 unedited'],
};

type Json = Record<string, unknown>;
const missing: string[] = [];
function read(path: string): Json | null {
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as Json;
  missing.push(path);
  return null;
}
const get = (o: unknown, ...path: (string | number)[]): unknown => path.reduce<unknown>((a, k) => (a && typeof a === 'object' ? (a as Record<string | number, unknown>)[k] : undefined), o);
const num = (v: unknown, digits = 1) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '-');
const pct = (v: unknown) => (typeof v === 'number' ? `${(100 * v).toFixed(1)}%` : '-');
const table = (head: string[], rows: string[][]) => [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

const reports = DEMOS.map((d) => ({ demo: d, edit: read(`${d.dir}/edit-report.json`), trace: read(`${d.dir}/trace-report.json`), reversal: read(d.reversal), unique: read(d.unique), detection: read(d.detection) }));
const mainSetting = (edit: Json | null) => {
  const main = get(edit, 'mainMom2Adjustment');
  return get(edit, 'settings', `mom2Adjustment=${main === undefined ? true : main}`) as Json | undefined;
};
const head = ['', ...DEMOS.map((d) => d.label), ...PAPER_MODELS];

console.log('\n**The edits** (main set: ROME as published for each family)\n');
console.log(
  table(head, [
    ['mom2 adjustment (u = C^-1 k*)', ...reports.map((r) => (get(r.edit, 'mainMom2Adjustment') === false ? 'off' : 'on')), 'on', 'on', 'off (EasyEdit)'],
    ['edited layer', ...reports.map((r) => String(get(r.edit, 'layer') ?? '-')), '17 of 48', '5 of 28', '5 of 32'],
    ['edits (effective)', ...reports.map((r) => `${get(mainSetting(r.edit), 'edits') ?? '-'} (${get(mainSetting(r.edit), 'effective') ?? Math.round(Number(get(mainSetting(r.edit), 'efficacy')) * Number(get(mainSetting(r.edit), 'edits')))})`), '-', '-', '-'],
    ['efficacy / paraphrase / neighbourhood', ...reports.map((r) => [pct(get(mainSetting(r.edit), 'efficacy')), pct(get(mainSetting(r.edit), 'paraphrase')), pct(get(mainSetting(r.edit), 'neighbourhood'))].join(' / ')), '-', '-', '-'],
  ]),
);

console.log('\n**Fig. 2: same-sign share of u** (the direction split of the update\'s rows; mean +- std over the main set)\n');
console.log(table(head, [['same direction', ...reports.map((r) => `${pct(get(mainSetting(r.edit), 'sameDirectionFraction', 'mean'))} +- ${pct(get(mainSetting(r.edit), 'sameDirectionFraction', 'std'))}`), ...PAPER.sameSign]]));

console.log('\n**Tab. 6 / Fig. 4: pcs of the edited layer** (unedited, and mean after one edit)\n');
console.log(
  table(head, [
    ['pcs unedited', ...reports.map((r) => num(get(mainSetting(r.edit), 'pcsBefore'), 6)), ...PAPER.pcsUnedited.map((v) => (v === 0 ? '~0' : v.toFixed(6)))],
    ['pcs edited (mean)', ...reports.map((r) => num(get(mainSetting(r.edit), 'pcsAfter', 'mean'), 6)), ...PAPER.pcsEditedMean.map((v) => (Math.abs(v) < 1e-5 ? v.toExponential(2) : v.toFixed(6)))],
    ['after / before', ...reports.map((r) => `${num(get(mainSetting(r.edit), 'pcsRatio'), 2)}x`), ...PAPER.pcsUnedited.map((v, i) => (v > 0 ? `${((PAPER.pcsEditedMean[i] as number) / v).toFixed(0)}x` : 'none (pcs ~0 both)'))],
    ['sigma1/sigma2 after (before)', ...reports.map((r) => `${num(get(mainSetting(r.edit), 'sigmaRatioAfter', 'mean'), 2)} (${num(get(mainSetting(r.edit), 'sigmaRatioBefore'), 2)})`), '-', '-', '-'],
  ]),
);

console.log('\n**Tab. 1: the relation probe** (accuracy %, mean +- std over 5 draws of the relations)\n');
const probeRows = (trace: Json | null) => (get(trace, 'relationProbe', 'rows') as { classes: number; mean: number; std: number; randomBaseline: number }[] | undefined) ?? [];
console.log(
  table(
    ['classes', 'baseline', ...head.slice(1)],
    Object.keys(PAPER.tab1).map((c) => {
      const classes = Number(c);
      const ours = reports.map((r) => probeRows(r.trace).find((p) => p.classes === classes));
      const baseline = ours.find((o) => o)?.randomBaseline;
      return [c, num(baseline), ...ours.map((o) => (o ? `${o.mean.toFixed(2)} +- ${o.std.toFixed(2)}` : '-')), ...(PAPER.tab1[classes] as string[])];
    }),
  ),
);

console.log(`\nEdits per relation to train / test the probe: ${reports.map((r) => `${r.demo.label} ${String(get(r.trace, 'relationProbe', 'options', 'trainPerRelation') ?? '-')} / ${String(get(r.trace, 'relationProbe', 'options', 'testPerRelation') ?? '-')}`).join(', ')}; the paper 50 / 50.`);

console.log('\n**Fig. 6: the object decoder** (top-1 %, the edited layer tuned; in-distribution / out-of-distribution relations)\n');
const decoderRow = (trace: Json | null, layer: unknown) => {
  const rows = get(trace, 'decoder') as { tunedLayer: number; inDistribution: { top1: number }; outOfDistribution: { top1: number } }[] | { skipped: string } | undefined;
  if (!Array.isArray(rows)) return '-';
  const r = rows.find((x) => x.tunedLayer === layer);
  return r ? `${r.inDistribution.top1.toFixed(1)} / ${r.outOfDistribution.top1.toFixed(1)}` : '-';
};
console.log(table(head, [['top-1 ID / OOD', ...reports.map((r) => decoderRow(r.trace, get(r.edit, 'layer'))), ...PAPER.decoder]]));

console.log('\n**Tab. 2 / Tab. 5: reversal by bottom-rank approximations** (reversal and editing accuracy %, max rank-one similarity)\n');
const rev = (r: Json | null, key: string, k: number) => get(r, 'reversal', key, k, 'mean');
const best = (r: Json | null) => {
  const k = get(r, 'reversal', 'bestK');
  return typeof k === 'number' ? `${num(rev(r, 'reversal', k), 2)} (k = ${k})` : '-';
};
console.log(
  table(head, [
    ['reversal at k = 1', ...reports.map((r) => num(rev(r.reversal, 'reversal', 1), 2)), ...PAPER.reversalK1],
    ['editing at k = 1', ...reports.map((r) => num(rev(r.reversal, 'editing', 1), 2)), ...PAPER.editingK1],
    ['best reversal', ...reports.map((r) => best(r.reversal)), ...PAPER.reversalBest],
    // similarity[i] is k = i + 1.
    ['similarity k = 1', ...reports.map((r) => num(get(r.reversal, 'reversal', 'similarity', 0, 'mean'), 2)), ...(PAPER.similarity[1] as string[])],
    ['similarity k = 2', ...reports.map((r) => num(get(r.reversal, 'reversal', 'similarity', 1, 'mean'), 2)), ...(PAPER.similarity[2] as string[])],
  ]),
);

console.log('\n**Fig. 8: unique predictions** (distinct 5-token continuations over k = 0..15, per neutral sample)\n');
const uniqueCell = (u: Json | null) => (u ? `${num(get(u, 'uniquePredictions', 'model', 'mean'), 2)} edited / ${num(get(u, 'uniquePredictions', 'original', 'mean'), 2)} unedited` : '-');
console.log(table(head, [['mean per sample', ...reports.map((r) => uniqueCell(r.unique)), ...PAPER.unique]]));

console.log('\n**Detection from weights alone** (experiment:detection: each effective edit rebuilt on its base and scanned; the paper has no such table)\n');
const detectionCell = (d: Json | null, mom2: boolean) => {
  const row = (get(d, 'rows') as { mom2Adjustment: boolean; recall: number; checkpoints: number }[] | undefined)?.find((x) => x.mom2Adjustment === mom2);
  return row ? `${pct(row.recall)} of ${row.checkpoints}` : '-';
};
const falseFlags = (d: Json | null) => {
  const u = get(d, 'unedited') as { flagged: number[]; layers: number }[] | undefined;
  return u ? `${u.reduce((a, x) => a + x.flagged.length, 0)} of ${u.reduce((a, x) => a + x.layers, 0)}` : '-';
};
console.log(
  table(['', ...DEMOS.map((d) => d.label)], [
    ['recall, mom2 on', ...reports.map((r) => detectionCell(r.detection, true))],
    ['recall, mom2 off', ...reports.map((r) => detectionCell(r.detection, false))],
    ['layers of unedited models flagged', ...reports.map((r) => falseFlags(r.detection))],
  ]),
);
if (missing.length) console.log(`\nnot yet measured (run the experiments that write them): ${missing.join(', ')}`);
