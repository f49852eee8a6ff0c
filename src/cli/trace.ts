import { readFile } from 'node:fs/promises';
import { DEFAULT_SCAN, scanModel } from '../analysis/scanModel';
import { loadTokenizerBeside } from '../analysis/textModel';
import { parseProbe, type RelationProbeFile } from '../analysis/relationProbeFile';
import { type TraceResult, traceLayer } from '../analysis/traceModel';
import { FormatError } from '../formats/formatError';
import { integerOption, type ParsedArgs } from './argv';
import { chooseBackend } from './backendForNode';
import { NodeFileSource, openCheckpointAt } from './nodeFileSource';
import type { CliIo } from './main';

const percent = (p: number) => (Number.isFinite(p) ? `${(100 * p).toFixed(1).padStart(5)}%` : '    -');

export function formatTrace(r: TraceResult): string {
  const lines = [`Trace of layer ${r.layer} (update from ${r.updateFrom === 'diff' ? "the exact diff W' - W" : "W' alone"}, sigma1 ${r.sigma1.toPrecision(4)})`];
  if (r.relation) {
    lines.push('', 'predicted relation (relation probe, paper Sec. 5):');
    for (const p of r.relation.slice(0, 5)) lines.push(`  ${p.relation.padEnd(12)} ${percent(p.probability)}`);
  }
  if (r.trainingFree) {
    lines.push('', `likely new object, training-free readout (relation moved most: ${r.trainingFree.relation}):`);
    for (const c of r.trainingFree.candidates) lines.push(`  ${c.text.padEnd(16)} contrast ${c.score.toFixed(3)}`);
  }
  if (r.decoder) {
    lines.push('', `likely new object, trained decoder (tuned layer ${r.decoder.tunedLayer}, paper Sec. 6):`);
    for (const c of r.decoder.candidates) lines.push(`  ${c.text.padEnd(16)} ${percent(c.score)}`);
  }
  if (r.notes.length) lines.push('', ...r.notes.map((n) => `note: ${n}`));
  return `${lines.join('\n')}\n`;
}

/**
 * `trace <files> [--layer L] [--probe probe.json] [--decoder d.safetensors] [--original <files>]`: the
 * flagged layer's relation and new object. Without --layer, the layer the scan flags.
 */
export async function trace(args: ParsedArgs, io: CliIo, opened: NodeFileSource[]): Promise<number> {
  const { checkpoint, resolve } = await openCheckpointAt(args.positional, opened);
  const original = args.lists['original'] ? (await openCheckpointAt(args.lists['original'], opened)).checkpoint : null;
  const backend = await chooseBackend(args.values['backend'], io.err);
  let layer: number;
  if (args.values['layer'] !== undefined) layer = integerOption(args.values, 'layer', 0, 0, 10_000);
  else {
    const scan = await scanModel(checkpoint, { backend, original, ...DEFAULT_SCAN });
    const flagged = scan.report.verdict.editedLayers;
    if (flagged.length === 0) throw new FormatError(checkpoint.label, 'no layer is flagged as edited; pass --layer L to trace one anyway');
    layer = flagged[0] as number;
  }
  let probe: RelationProbeFile | null = null;
  const probePath = args.values['probe'];
  if (probePath) {
    let text: string;
    try {
      text = await readFile(probePath, 'utf8');
    } catch (cause) {
      throw new FormatError(probePath, `cannot be read (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`);
    }
    probe = parseProbe(probePath, text);
  }
  const decoderPath = args.values['decoder'];
  const decoder = decoderPath ? await NodeFileSource.open(decoderPath) : null;
  if (decoder) opened.push(decoder);
  const tokenizer = await loadTokenizerBeside(resolve, checkpoint.label).catch((error: unknown) => {
    if (error instanceof FormatError) return null;
    throw error;
  });
  const result = await traceLayer({ checkpoint, original, layer, tokenizer, probe, decoder, backend });
  io.out(args.switches.has('json') ? `${JSON.stringify(result, null, 2)}\n` : formatTrace(result));
  return 0;
}
