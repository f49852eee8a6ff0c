import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EditSession } from '../src/analysis/editSession';
import { DEFAULT_EDIT_SETTINGS } from '../src/analysis/editSpec';
import { multiEditTrial, sampleEdits } from '../src/analysis/multiEdit';
import { openModelInput } from '../src/analysis/modelInput';
import { scanModel } from '../src/analysis/scanModel';
import { numericalRank } from '../src/core/editSignature';
import { cpuBackend } from '../src/core/matrixBackend';
import { SeededRandom } from '../src/core/random';
import { randomizedSvd, cpuOperator } from '../src/core/randomizedSvd';
import { rowMatrix } from '../src/core/matrix';
import type { DemoFacts } from '../src/edit/demoWorld';

describe('numericalRank', () => {
  it('counts singular values over 1e-3 sigma_1', () => {
    expect(numericalRank([10, 5, 0.011, 0.009])).toBe(3);
    expect(numericalRank([0, 0])).toBe(0);
    expect(numericalRank([])).toBe(0);
    expect(numericalRank([1, 1e-7, 1e-8], 1e-6)).toBe(1);
  });

  it('finds n in a random matrix plus n random rank-one updates, by the randomized SVD of the difference', async () => {
    const rng = new SeededRandom(3);
    for (const n of [1, 2, 5, 7]) {
      const rows = 61;
      const cols = 23;
      const diff = new Float32Array(rows * cols);
      for (let e = 0; e < n; e++) {
        const u = rng.gaussianArray(rows);
        const v = rng.gaussianArray(cols);
        for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) diff[i * cols + j] = (diff[i * cols + j] as number) + (u[i] as number) * (v[j] as number);
      }
      const svd = await randomizedSvd(cpuOperator(rowMatrix(rows, cols, diff)), { k: 12, oversampling: 8, powerIterations: 3, seed: 1 });
      expect(numericalRank(svd.values)).toBe(n);
    }
  });
});

const facts: DemoFacts = {
  relations: [
    { id: 'P1', name: 'one', templates: ['{} likes'], objects: ['a', 'b', 'c'] },
    { id: 'P2', name: 'two', templates: ['{} hates', '{} dislikes'], objects: ['x', 'y'] },
  ],
  facts: ['S1', 'S2', 'S3', 'S4'].flatMap((subject, i) => [
    { subject, relation: 'P1', object: ['a', 'b', 'c'][i % 3] as string, heldOutTemplate: 0 },
    { subject, relation: 'P2', object: ['x', 'y'][i % 2] as string, heldOutTemplate: 0 },
  ]),
};

describe('sampleEdits', () => {
  it('draws distinct subjects, each edited to another object of its relation with the relation\'s first template, reproducibly', () => {
    const settings = { ...DEFAULT_EDIT_SETTINGS, layer: 0 };
    const edits = sampleEdits(facts, 4, 9, settings);
    expect(edits).toHaveLength(4);
    expect(new Set(edits.map((e) => e.subject)).size).toBe(4);
    for (const e of edits) {
      const relation = facts.relations.find((r) => r.templates[0] === e.prompt)!;
      expect(relation.objects).toContain(e.target);
      expect(facts.facts.some((f) => f.subject === e.subject && f.relation === relation.id && f.object === e.target)).toBe(false);
    }
    expect(sampleEdits(facts, 4, 9, settings)).toEqual(edits);
    expect(sampleEdits(facts, 9, 9, settings)).toHaveLength(4);
  });
});

describe.skipIf(!existsSync('public/demo/mom2-stats.safetensors'))('several edits in one matrix of the demo', () => {
  it('the diff has one singular value per edit, the scan of the edited files agrees, and the session returns to the base', async () => {
    const file = (path: string) => new File([readFileSync(path)], path.split('/').pop() as string);
    const session = new EditSession();
    const info = await session.open({
      model: { kind: 'files', files: ['model.safetensors', 'config.json', 'tokenizer.json'].map((f) => file(`public/demo/base/${f}`)) },
      corpus: null,
      stats: { kind: 'file', file: file('public/demo/mom2-stats.safetensors') },
      facts: { kind: 'file', file: file('public/demo/facts.json') },
    });
    const world = { session, facts: info.facts!, layer: 0, mom2Adjustment: true, contextTemplates: info.defaultContextTemplates, backend: cpuBackend, tokenizer: undefined as never, probe: null, decoder: null };
    const trial = await multiEditTrial(world, 3, 0, 77);
    expect(trial.edits).toBe(3);
    expect(trial.diffRank).toBe(3);
    expect(trial.diffSigma[3]! / trial.diffSigma[0]!).toBeLessThan(1e-4);
    expect(trial.reversal.map((r) => r.k)).toEqual([1, 3]);
    expect(trial.efficacyWhenMade).toBeGreaterThan(0);
    expect(session.edits()).toHaveLength(0);
    // The same three edits again, scanned as the page scans them: the diff detail says rank 3.
    for (const spec of sampleEdits(info.facts!, 3, 77, { ...DEFAULT_EDIT_SETTINGS, layer: 0, contextTemplates: info.defaultContextTemplates })) await session.edit(spec);
    const edited = (await openModelInput({ kind: 'files', files: (await session.editedCheckpoint()).files })).checkpoint;
    const original = (await openModelInput({ kind: 'files', files: [file('public/demo/base/model.safetensors'), file('public/demo/base/config.json')] })).checkpoint;
    const scan = await scanModel(edited, { backend: cpuBackend, original });
    const layer0 = scan.details.find((d) => d.layer === 0)!;
    expect(layer0.diff).toMatchObject({ rank: 3, rankIsLowerBound: false });
    expect(scan.details.filter((d) => d.layer !== 0).every((d) => d.diff?.frobenius === 0)).toBe(true);
  }, 120_000);
});
