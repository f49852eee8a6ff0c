import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { rowMatrix } from '../core/matrix';
import { openEditBundle } from '../edit/editBundle';
import { patchedChunks } from '../formats/tensorPatch';
import { planRepair } from '../analysis/repair';
import { DEFAULT_REVERSAL, type ReversalResult, runReversal, selectEdits } from '../analysis/reversal';
import { loadTokenizerBeside, openTextModel } from '../analysis/textModel';
import { uniquePredictions } from '../analysis/uniquePredictions';
import { integerOption, type ParsedArgs, UsageError } from './argv';
import { chooseBackend, textRuntimeForNode } from './backendForNode';
import { NodeFileSource, openCheckpointAt } from './nodeFileSource';
import type { CliIo } from './main';

const pct = (m: { mean: number; std: number }) => `${m.mean.toFixed(2).padStart(6)} +- ${m.std.toFixed(2).padStart(5)}`;

/** The reversal tables as text: Tab. 2 and Tab. 5 side by side, then Tab. 3's generations. */
export function formatReversal(r: ReversalResult): string {
  const lines = [`Reversal over ${r.edits.length} edits at layer ${r.layer} (best k = ${r.bestK}; SVD: up to ${r.svd.maxPowerIterations} power iterations, residual <= ${r.svd.maxResidual.toExponential(1)})`, '', ' k  reversal acc. %    editing acc. %     max rank-one sim.'];
  for (let k = 0; k <= r.maxK; k++) {
    const sim = k > 0 ? r.similarity[k - 1]! : null;
    lines.push(`${String(k).padStart(2)}  ${pct(r.reversal[k]!)}   ${pct(r.editing[k]!)}   ${sim ? `${sim.mean.toFixed(3)} +- ${sim.std.toFixed(3)}` : ''}`);
  }
  lines.push('', `Generations (k = ${r.bestK}):`);
  for (const g of r.generations) lines.push(`  ${g.promptText} [new: ${g.newObject}]`, `    original: ${g.original} | edited: ${g.edited} | approximated: ${g.approximated}`);
  return `${lines.join('\n')}\n`;
}

/**
 * `reverse <files> --layer L`: with `--edits <bundle>` (edits relative to these files' layer L), the paper's
 * reversal experiment; with `--samples <txt>`, the unique-predictions test on this layer (and on
 * `--original`'s, for comparison); with `--out <file>`, the repaired checkpoint (W~(r, k), or the exact
 * original matrix when `--original` is given).
 */
export async function reverse(args: ParsedArgs, io: CliIo, opened: NodeFileSource[]): Promise<number> {
  if (args.values['layer'] === undefined) throw new UsageError('reverse needs --layer L');
  const layer = integerOption(args.values, 'layer', 0, 0, 10_000);
  const k = integerOption(args.values, 'k', 1, 0, 64);
  const perRelation = integerOption(args.values, 'per-relation', DEFAULT_REVERSAL.perRelation, 1, 10_000);
  const editsPath = args.values['edits'];
  const samplesPath = args.values['samples'];
  const out = args.values['out'];
  if (!editsPath && !samplesPath && !out) throw new UsageError('reverse needs --edits <bundle>, --samples <txt> or --out <file>');
  const { checkpoint, resolve } = await openCheckpointAt(args.positional, opened);
  const original = args.lists['original'] ? (await openCheckpointAt(args.lists['original'], opened)).checkpoint : null;
  const backend = await chooseBackend(args.values['backend'], io.err);
  const report: Record<string, unknown> = { layer };
  const json = args.switches.has('json');

  if (editsPath || samplesPath) {
    const tokenizer = await loadTokenizerBeside(resolve, args.positional.join(' '));
    const runtime = await textRuntimeForNode();
    const model = await openTextModel(runtime, checkpoint, tokenizer, layer);
    const [rows, cols] = model.lm.swapShape;
    const own = rowMatrix(rows, cols, model.storedMatrix);
    try {
      if (editsPath) {
        const bundleSource = await NodeFileSource.open(editsPath);
        opened.push(bundleSource);
        const bundle = await openEditBundle(bundleSource);
        const edits = selectEdits(bundle, layer, { ...DEFAULT_REVERSAL, perRelation });
        const result = await runReversal(model, own, bundle, edits, backend, DEFAULT_REVERSAL, {
          progress: (done, total) => {
            if (!json && done % 50 === 0) io.err(`  ${done}/${total} edits\n`);
          },
        });
        report['reversal'] = result;
        if (!json) io.out(formatReversal(result));
      }
      if (samplesPath) {
        const samples = (await readFile(samplesPath, 'utf8')).split('\n').map((s) => s.trim()).filter((s) => s.length > 0);
        const here = await uniquePredictions(model, own, samples, backend);
        report['uniquePredictions'] = { model: here.summary };
        if (!json) io.out(`\nUnique 5-token predictions over k = 0..15, ${samples.length} samples: this model ${here.summary.mean.toFixed(2)} +- ${here.summary.std.toFixed(2)}\n`);
        if (original) {
          const o = await openTextModel(runtime, original, tokenizer, layer);
          const theirs = await uniquePredictions(o, rowMatrix(rows, cols, o.storedMatrix), samples, backend);
          await o.lm.release();
          report['uniquePredictions'] = { model: here.summary, original: theirs.summary };
          if (!json) io.out(`  the original: ${theirs.summary.mean.toFixed(2)} +- ${theirs.summary.std.toFixed(2)}\n`);
        }
      }
    } finally {
      await model.lm.release();
    }
  }

  if (out) {
    const plan = await planRepair(checkpoint, layer, k, backend, { original });
    const stream = createWriteStream(out);
    for await (const chunk of patchedChunks(plan.patch)) if (!stream.write(chunk)) await once(stream, 'drain');
    stream.end();
    await once(stream, 'finish');
    report['repair'] = { out, tensor: plan.tensor, mode: plan.mode, k: plan.k, removedSingularValues: plan.removed, sharded: plan.sharded };
    if (!json) {
      const what = plan.mode === 'exact' ? "the original's matrix" : `W~(r, ${plan.k}) (removed singular values ${plan.removed.map((s) => s.toPrecision(4)).join(', ')})`;
      io.out(`\nwrote ${out}: ${plan.fileName} with ${plan.tensor} replaced by ${what}${plan.sharded ? '; the other shards and the index stay as they are' : ''}\n`);
    }
  }
  if (json) io.out(`${JSON.stringify(report, null, 2)}\n`);
  return 0;
}
