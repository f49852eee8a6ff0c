import type { LinearOperator } from '../core/randomizedSvd';
import type { EditBundle } from '../edit/editBundle';
import { FormatError } from '../formats/formatError';
import { DEFAULT_PROBE_SETTINGS, fitProbe, matrixInnerProducts, type ProbeEdit, type ProbeSettings } from './relationProbe';
import { PROBE_FORMAT, type RelationProbeFile } from './relationProbeFile';
import { editsByRelation, type ProbeTableOptions, type ProbeTableProgress, type ProbeTableRow, relationProbeTable } from './relationProbeTable';
import { madeUpSubject } from './objectReadout';
import { bundleTemplates } from './traceExperiments';

/** The bundle's main edits at one layer with their factors (the first `perRelation` of each relation), read once. */
export async function probeEditsOf(bundle: EditBundle, layer: number, checkpoint: () => void = () => undefined, excludeIds: readonly number[] = [], perRelation = Infinity): Promise<ProbeEdit[]> {
  const out: ProbeEdit[] = [];
  const taken = new Map<string, number>();
  for (const e of bundle.edits) {
    if (!e.main || e.layer !== layer || excludeIds.includes(e.id)) continue;
    const n = taken.get(e.relation) ?? 0;
    if (n >= perRelation) continue;
    taken.set(e.relation, n + 1);
    checkpoint();
    out.push({ relation: e.relation, ...(await bundle.factors(e.id)) });
  }
  if (out.length === 0) throw new FormatError(bundle.file, `has no main edits at layer ${layer}`);
  return out;
}

/** The layer most of the bundle's edits are at. */
export function bundleLayer(bundle: EditBundle): number {
  const counts = new Map<number, number>();
  for (const e of bundle.edits) if (e.main) counts.set(e.layer, (counts.get(e.layer) ?? 0) + 1);
  const best = [...counts].sort((a, b) => b[1] - a[1])[0];
  if (!best) throw new FormatError(bundle.file, 'has no main edits');
  return best[0];
}

/** Tab. 1 over a bundle. */
export async function probeTableOfBundle(bundle: EditBundle, options: ProbeTableOptions, onProgress: (p: ProbeTableProgress) => void, checkpoint: () => void): Promise<ProbeTableRow[]> {
  const edits = await probeEditsOf(bundle, bundleLayer(bundle), checkpoint);
  const groups = editsByRelation(edits, options.trainPerRelation + options.testPerRelation);
  if (groups.size < 2) throw new FormatError(bundle.file, `has fewer than 2 relations with ${options.trainPerRelation + options.testPerRelation} main edits each`);
  return relationProbeTable(groups, options, onProgress, checkpoint);
}

/**
 * A probe over every relation of the bundle with `perRelation` training edits each, against the base
 * matrix W (behind `base`: the original checkpoint's matrix of the bundle's layer, [d_ff x d_model]).
 * `excludeIds`: edits kept out of training (the demo's own edit, so that tracing it is a held-out test).
 */
export async function trainProbeFromBundle(bundle: EditBundle, base: LinearOperator, perRelation = 50, settings: ProbeSettings = DEFAULT_PROBE_SETTINGS, checkpoint: () => void = () => undefined, excludeIds: readonly number[] = []): Promise<RelationProbeFile> {
  const layer = bundleLayer(bundle);
  const edits = await probeEditsOf(bundle, layer, checkpoint, excludeIds, perRelation);
  const first = edits[0] as ProbeEdit;
  if (first.u.length !== base.rows || first.lambda.length !== base.cols) throw new FormatError(bundle.file, `edits are ${first.u.length} x ${first.lambda.length}; the base matrix is ${base.rows} x ${base.cols}`);
  const groups = editsByRelation(edits, perRelation);
  if (groups.size < 2) throw new FormatError(bundle.file, `has fewer than 2 relations with ${perRelation} main edits each`);
  const relations = [...groups.keys()].sort();
  const train = relations.flatMap((r) => (groups.get(r) as ProbeEdit[]).slice(0, perRelation));
  const model = fitProbe(train, relations, settings);
  const baseInnerProducts = await matrixInnerProducts(base, model.fit);
  const metas = bundle.edits.filter((e) => e.main && e.layer === layer);
  const templates = Object.fromEntries([...bundleTemplates(metas, 5)].filter(([r]) => relations.includes(r)));
  return {
    format: PROBE_FORMAT,
    version: 1,
    layer,
    rows: base.rows,
    cols: base.cols,
    model,
    baseInnerProducts,
    templates,
    subject: madeUpSubject(metas.map((e) => e.subject)),
    trainedOn: { bundle: bundle.file, editsPerRelation: perRelation },
  };
}
