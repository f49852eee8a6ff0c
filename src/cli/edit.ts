import { createWriteStream } from 'node:fs';
import { mkdir, readdir, realpath, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { EditSession, type EditOutcome } from '../analysis/editSession';
import { editedCheckpointParts } from '../analysis/editedCheckpoint';
import { checkEditSpec, DEFAULT_EDIT_SETTINGS, editsToParam, type EditSpec, MAX_EDITS } from '../analysis/editSpec';
import type { FileInput } from '../analysis/modelInput';
import { baseName, type ByteSource } from '../formats/byteSource';
import { FormatError } from '../formats/formatError';
import { patchedChunks, type PatchedFile } from '../formats/tensorPatch';
import { useGemmKernel } from '../edit/engine/gemm';
import { useNativeEngine } from '../edit/node/nativeEngine';
import { wasmGemmNT } from '../wasm/wasmGemm';
import { integerOption, type ParsedArgs, UsageError } from './argv';
import type { CliIo } from './main';
import { NodeFileSource, openCheckpointAt } from './nodeFileSource';

/** ROME's statistics and world files the demo ships beside its models (kmeng01/rome's cached mom2 statistics). */
const STATS_FILE = 'mom2-stats.safetensors';
const CORPUS_FILE = 'mom2-corpus.txt';
const FACTS_FILE = 'facts.json';
/** The edits since the unedited base, written beside an edited checkpoint and read when it is edited again. */
const RECIPE_FILE = 'edit.json';
/** Where the edit bundle goes inside --out: a subfolder, so scanning --out sees only the checkpoint. */
const BUNDLE_PATH = join('edit-bundle', 'edits.safetensors');

/**
 * `edit`: one ROME edit of a GPT-2-family checkpoint on the CPU engine, written as a new checkpoint folder
 * (the input's files with the edited tensor replaced, byte-identical elsewhere), the edit as a bundle, and
 * edit.json (the spec and the page link's `edits` value, which recomputes the same weights).
 */
export async function edit(args: ParsedArgs, io: CliIo, opened: NodeFileSource[]): Promise<number> {
  const out = args.values['out'];
  if (!out) throw new UsageError('edit needs --out <folder> for the edited checkpoint');
  const spec = specFromArgs(args);
  const input = await openCheckpointAt(args.positional, opened);
  await checkOutFolder(out, input.sources);

  const local = args.positional.every((p) => !/^https?:\/\//i.test(p));
  const near = async (name: string): Promise<FileInput | null> => {
    const beside = await input.resolve(name);
    if (beside) return { kind: 'source', source: beside };
    // The demo's layout: the statistics sit one folder up from base/ and edited/.
    if (!local) return null;
    const first = input.sources[0] as NodeFileSource;
    try {
      const source = await NodeFileSource.open(join(dirname(dirname(resolvePath(first.name))), name));
      opened.push(source);
      return { kind: 'source', source };
    } catch {
      return null;
    }
  };
  const corpusPath = args.values['corpus'];
  let corpus: FileInput | null = null;
  if (corpusPath) {
    const source = await NodeFileSource.open(corpusPath);
    opened.push(source);
    corpus = { kind: 'source', source };
  }
  // C over the corpus given; otherwise the statistics (or their corpus) found beside the model.
  const stats = corpus ? null : await near(STATS_FILE);
  if (!corpus && !stats) corpus = await near(CORPUS_FILE);
  const mom2 = !args.switches.has('no-mom2');
  if (mom2 && !corpus && !stats) {
    throw new UsageError(`the mom2 adjustment (u = C^-1 k*, ROME as published for GPT-2) needs C: give --corpus <file.txt> (one sentence a line), put ${STATS_FILE} or ${CORPUS_FILE} beside the model, or pass --no-mom2`);
  }

  const previous = await previousEdits(await input.resolve(RECIPE_FILE));
  // Native GEMM (onnxruntime-node) by default; --engine wasm runs the page's own products (its link then
  // reproduces these weights bit for bit: each kernel rounds its sums in its own order); typescript, the reference.
  const engine = args.values['engine'] ?? 'native';
  if (engine !== 'native' && engine !== 'wasm' && engine !== 'typescript') throw new UsageError('--engine must be native, wasm or typescript');
  let engineLine: string;
  if (engine === 'native') engineLine = useNativeEngine(Math.min(8, availableParallelism()));
  else {
    const kernel = engine === 'wasm' ? wasmGemmNT() : null;
    if (engine === 'wasm' && !kernel) throw new UsageError('--engine wasm: this Node has no WebAssembly SIMD');
    useGemmKernel(kernel);
    engineLine = engine === 'wasm' ? 'WebAssembly SIMD GEMM (as the page computes)' : 'TypeScript GEMM (the reference)';
  }
  const session = new EditSession();
  const info = await session.open({ model: { kind: 'opened', input }, corpus, stats, facts: await near(FACTS_FILE) });
  const lastLayer = previous?.edits[previous.edits.length - 1]?.settings.layer;
  const settings = {
    ...spec.settings,
    mom2Adjustment: mom2,
    // Editing an edited folder again: the same layer as the edit before, unless told.
    layer: integerOption(args.values, 'layer', lastLayer !== undefined && lastLayer < info.layers ? lastLayer : info.defaultLayer, 0, info.layers - 1),
    contextTemplates: args.values['context-templates'] ?? info.defaultContextTemplates,
  };
  const full = checkEditSpec({ ...spec, settings }, 'edit', info.layers);
  const json = args.switches.has('json');
  if (!json) io.err(`edit-forensics: ROME at layer ${full.settings.layer} of ${info.label} (${info.layers} layers, d_ff ${info.dFF}) on ${engineLine}; C ${!mom2 ? 'not used (--no-mom2)' : stats ? `from ${baseName(stats.kind === 'source' ? stats.source.name : '')}` : `over ${corpus?.kind === 'source' ? baseName(corpus.source.name) : ''}`}\n`);
  const outcome = await session.edit(full, (p) => {
    if (!json && !stats && p.phase === 'covariance' && p.done === 0) io.err(`edit-forensics: ${p.message}\n`);
  });

  const plan = await session.plan();
  await mkdir(join(out, dirname(BUNDLE_PATH)), { recursive: true });
  const written: string[] = [];
  for (const { name, patch } of await editedCheckpointParts(input, plan)) {
    await writeStream(join(out, name), patch);
    written.push(name);
  }
  await writeFile(join(out, BUNDLE_PATH), session.bundle());
  // edit.json lists every edit since the unedited base (this folder's own, then this one), so its link recomputes them all.
  const edits = [...(previous?.edits ?? []), full];
  const recipe = { base: previous?.base ?? info.label, edits, link: editsToParam(edits), digest: plan.digest, tensors: plan.tensors, model: info.label };
  await writeFile(join(out, RECIPE_FILE), `${JSON.stringify(recipe, null, 2)}\n`);

  if (json) io.out(`${JSON.stringify({ ...recipe, outcome: outcomeJson(outcome), out, files: written, bundle: BUNDLE_PATH }, null, 2)}\n`);
  else io.out(formatOutcome(outcome, plan.digest, out, written, plan.patches.map((p) => baseName(p.source.name))));
  return 0;
}

function specFromArgs(args: ParsedArgs): Omit<EditSpec, 'settings'> & { settings: Omit<EditSpec['settings'], 'layer'> } {
  const need = (name: string) => {
    const v = args.values[name];
    if (v === undefined || !v.trim()) throw new UsageError(`edit needs --${name} "..."`);
    return v.trim();
  };
  const subject = need('subject');
  let prompt = need('prompt');
  const target = need('target');
  if (!prompt.includes('{}')) {
    // A prompt with the subject written out is accepted: its first occurrence becomes {}.
    if (!prompt.includes(subject)) throw new UsageError(`the subject "${subject}" is not in the prompt "${prompt}": write the prompt with {} where the subject goes, e.g. --prompt "{} is located in"`);
    prompt = prompt.replace(subject, '{}');
  }
  const number = (name: string, fallback: number) => {
    const raw = args.values[name];
    if (raw === undefined) return fallback;
    const x = Number(raw);
    if (!Number.isFinite(x)) throw new UsageError(`--${name} must be a number (got "${raw}")`);
    return x;
  };
  return {
    subject,
    prompt,
    target,
    settings: { ...DEFAULT_EDIT_SETTINGS, vSteps: number('v-steps', DEFAULT_EDIT_SETTINGS.vSteps), vLr: number('v-lr', DEFAULT_EDIT_SETTINGS.vLr) },
  };
}

/** edit.json of a folder this command wrote (untrusted like any input: each edit is checked). */
async function previousEdits(source: ByteSource | null): Promise<{ base: string; edits: EditSpec[] } | null> {
  if (!source) return null;
  if (source.size > 1_000_000) throw new FormatError(source.name, 'is over 1 MB: not an edit.json this tool wrote');
  let json: { base?: unknown; edits?: unknown };
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await source.read(0, source.size)));
  } catch {
    throw new FormatError(source.name, 'is not JSON (edit-forensics edit writes it beside an edited checkpoint: its edits since the base)');
  }
  if (!Array.isArray(json?.edits)) throw new FormatError(source.name, 'has no "edits" list');
  if (json.edits.length >= MAX_EDITS) throw new FormatError(source.name, `lists ${json.edits.length} edits; at most ${MAX_EDITS} in one sequence`);
  const edits = json.edits.map((e, i) => checkEditSpec(e, `${baseName(source.name)}, edit ${i + 1}`));
  return { base: typeof json.base === 'string' ? json.base : '(unknown)', edits };
}

/** --out must be a new or empty folder, and not the model's own: the edited files are written while the input is read. */
async function checkOutFolder(out: string, sources: readonly ByteSource[]): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(out);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new FormatError(out, code === 'ENOTDIR' ? 'exists and is not a folder: --out takes a folder' : `cannot be read (${code ?? String(cause)})`);
  }
  const target = await realpath(out);
  for (const s of sources) {
    if (/^https?:/i.test(s.name)) continue;
    if (dirname(await realpath(s.name)) === target) throw new FormatError(out, 'is the model\'s own folder: write the edited checkpoint to another one');
  }
  if (entries.length > 0) throw new FormatError(out, `is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}): give a new or empty folder`);
}

async function writeStream(path: string, patch: PatchedFile): Promise<void> {
  const stream = createWriteStream(path);
  try {
    for await (const chunk of patchedChunks(patch)) if (!stream.write(chunk)) await once(stream, 'drain');
  } finally {
    stream.end();
    await once(stream, 'finish');
  }
}

function outcomeJson(o: EditOutcome) {
  return { steps: o.steps, finalLoss: o.finalLoss, deltaRatio: o.deltaRatio, uSameSign: o.uSameSign, seconds: o.seconds, losses: o.losses, checks: o.checks };
}

function formatOutcome(o: EditOutcome, digest: string, out: string, files: string[], changed: string[]): string {
  const s = o.spec;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [
    `ROME: "${s.prompt.replace('{}', s.subject)}" -> ${s.target} (layer ${s.settings.layer}, mom2 adjustment ${s.settings.mom2Adjustment ? 'on' : 'off'}, context templates ${s.settings.contextTemplates})`,
    `v*: ${o.steps} steps, loss ${o.losses[0]?.toFixed(3) ?? '-'} -> ${o.finalLoss.toFixed(3)}; u: ${pct(o.uSameSign)} of entries share one sign; ${o.seconds.toFixed(1)} s`,
    '',
    `${'check'.padEnd(12)} ${'prompt'.padEnd(44)} ${'before'.padEnd(18)} ${'after'.padEnd(18)} ok`,
  ];
  for (const c of o.checks) {
    const guess = (g: typeof c.before) => `${g.token} ${pct(g.probability)}`.padEnd(18);
    lines.push(`${c.kind.padEnd(12)} ${c.prompt.slice(0, 44).padEnd(44)} ${guess(c.before)} ${guess(c.after)} ${c.ok ? 'yes' : 'no'}`);
  }
  lines.push(
    '',
    `wrote ${out}: ${files.join(', ')} (${changed.join(', ')} with the edited tensor, the rest copied byte for byte)`,
    `      ${join(out, BUNDLE_PATH)} (this edit as a bundle), ${join(out, RECIPE_FILE)} (the edits since the base; its "link" recomputes them in the page)`,
    `edited tensors' SHA-256: ${digest}`,
  );
  return `${lines.join('\n')}\n`;
}
