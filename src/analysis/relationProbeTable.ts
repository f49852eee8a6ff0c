import { meanStd } from '../core/meanStd';
import { SeededRandom } from '../core/random';
import { DEFAULT_PROBE_SETTINGS, fitProbe, type ProbeEdit, type ProbeSettings, predictUpdates } from './relationProbe';

/** Paper Tab. 1: relation-probe accuracy by number of classes, random relation subsets, several repeats. */
export interface ProbeTableOptions {
  classCounts: number[];
  repeats: number;
  trainPerRelation: number;
  testPerRelation: number;
  seed: number;
  settings: ProbeSettings;
}

export const PAPER_TABLE_1: ProbeTableOptions = {
  classCounts: [2, 3, 5, 10, 15, 20, 25, 30],
  repeats: 5,
  trainPerRelation: 50,
  testPerRelation: 50,
  seed: 1,
  settings: DEFAULT_PROBE_SETTINGS,
};

export interface ProbeTableRow {
  classes: number;
  /** Accuracy of uniformly random guesses on the same test sets (the paper's baseline column), in %. */
  randomBaseline: number;
  /** Accuracy of each repeat, in %. */
  accuracies: number[];
  mean: number;
  std: number;
  /** The relations drawn in each repeat. */
  relationSets: string[][];
}

export interface ProbeTableProgress {
  done: number;
  total: number;
  classes: number;
}

/** Groups edits by relation, keeping relations with enough edits for training and testing. */
export function editsByRelation(edits: readonly ProbeEdit[], needed: number): Map<string, ProbeEdit[]> {
  const groups = new Map<string, ProbeEdit[]>();
  for (const e of edits) {
    const list = groups.get(e.relation);
    if (list) list.push(e);
    else groups.set(e.relation, [e]);
  }
  for (const [r, list] of groups) if (list.length < needed) groups.delete(r);
  return groups;
}

export function relationProbeTable(
  groups: ReadonlyMap<string, readonly ProbeEdit[]>,
  options: ProbeTableOptions = PAPER_TABLE_1,
  onProgress: (p: ProbeTableProgress) => void = () => undefined,
  checkpoint: () => void = () => undefined,
): ProbeTableRow[] {
  const relations = [...groups.keys()].sort();
  const needed = options.trainPerRelation + options.testPerRelation;
  for (const r of relations) if ((groups.get(r) as readonly ProbeEdit[]).length < needed) throw new RangeError(`relation ${r} has fewer than ${needed} edits`);
  const counts = options.classCounts.filter((k) => k >= 2 && k <= relations.length);
  if (counts.length === 0) throw new RangeError(`need at least 2 relations with ${needed} edits each; found ${relations.length}`);
  const rng = new SeededRandom(options.seed);
  const total = counts.length * options.repeats;
  let done = 0;
  return counts.map((k) => {
    const accuracies: number[] = [];
    const baselines: number[] = [];
    const relationSets: string[][] = [];
    for (let rep = 0; rep < options.repeats; rep++) {
      checkpoint();
      const chosen = rng.shuffle([...relations]).slice(0, k).sort();
      relationSets.push(chosen);
      const train: ProbeEdit[] = [];
      const test: ProbeEdit[] = [];
      for (const r of chosen) {
        const list = rng.shuffle([...(groups.get(r) as readonly ProbeEdit[])]);
        train.push(...list.slice(0, options.trainPerRelation));
        test.push(...list.slice(options.trainPerRelation, needed));
      }
      const model = fitProbe(train, chosen, options.settings);
      const predicted = predictUpdates(model, test);
      accuracies.push((100 * predicted.filter((p, i) => chosen[p] === (test[i] as ProbeEdit).relation).length) / test.length);
      baselines.push((100 * test.filter((e) => chosen[rng.nextInt(k)] === e.relation).length) / test.length);
      onProgress({ done: ++done, total, classes: k });
    }
    const { mean, std } = meanStd(accuracies);
    return { classes: k, randomBaseline: meanStd(baselines).mean, accuracies, mean, std, relationSets };
  });
}
