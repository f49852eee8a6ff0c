import { robustCholesky } from '../core/cholesky';
import { CONTEXT_TEMPLATE_SEED, contextTemplates, parseTemplateLengths } from '../edit/contextTemplates';
import type { DemoFacts } from '../edit/demoWorld';
import { type EditRecord, writeEditBundle } from '../edit/editBundle';
import { Tensor } from '../edit/engine/tensor';
import type { Gpt2Config, Gpt2Params } from '../edit/gpt2Model';
import { KeyMomentAccumulator } from '../edit/keyStatistics';
import { applyUpdateInLayout, type EditableModel } from '../edit/editableModel';
import { keyMoment, mlpRows } from '../edit/familyEditMetrics';
import { transpose } from '../core/matrix';
import { computeLeftVector, type RomeContext, ROME_DEFAULTS, ROME_PRESETS, type RomeHyperparams, type RomeUpdate, rightVectorSteps } from '../edit/rome';
import type { RomeTokenizer } from '../edit/romeTokenizer';
import { baseName } from '../formats/byteSource';
import { CancelledError, FormatError } from '../formats/formatError';
import { openSafetensors, type TensorInfo } from '../formats/safetensors';
import { readTensorRows } from '../formats/tensorReader';
import type { TextTokenizer } from '../lm/tokenizer';
import { editedCheckpointFiles, type EditedCheckpointPlan, planEditedCheckpoint } from './editedCheckpoint';
import { type EditCheck, editChecks, guessNextTokens, type TokenGuess } from './editChecks';
import { checkEditSpec, type EditSpec, PUBLISHED_CONTEXT_TEMPLATES, romeDefaultLayer } from './editSpec';
import { ENGINE_FAMILIES, loadEngineModel } from './engineModel';
import { locateLayer } from './layerMatrix';
import { type FileInput, type ModelInput, openFileInput, openModelInput, type OpenedInput } from './modelInput';
import { romeTokenizerFrom } from './romeTextTokenizer';
import { loadTokenizerBeside } from './textModel';
import { readTextLines } from './textLines';

/** What the editor opens: the model, the text its C is taken over, and (the demo) its facts. */
export interface EditSource {
  /** Files or a URL (the page), or a checkpoint already opened (the CLI's files on disk). */
  model: ModelInput | { kind: 'opened'; input: OpenedInput };
  /** One sentence a line; null: mom2 adjustment is unavailable until one is given. */
  corpus: FileInput | null;
  /** C per layer, precomputed over the corpus (`layer.{i}.mom2`, F32 [d_ff, d_ff]), as kmeng01/rome ships its statistics. */
  stats: FileInput | null;
  facts: FileInput | null;
}

export interface EditModelInfo {
  label: string;
  /** The CPU engine's family (config.json model_type). */
  family: EditableModel['family'];
  /** ROME's published setting for the family (GPT-2, GPT-J: mom2 adjustment on; Llama: off, 25 v* steps). */
  defaultMom2Adjustment: boolean;
  defaultVSteps: number;
  layers: number;
  dModel: number;
  dFF: number;
  parameters: number;
  defaultLayer: number;
  defaultContextTemplates: string;
  corpus: { name: string; sentences: number; tokens: number } | null;
  /** Layers whose C comes precomputed, and from which file. */
  stats: { name: string; layers: number[]; tokens: number | null } | null;
  facts: DemoFacts | null;
}

export interface EditProgress {
  phase: 'templates' | 'covariance' | 'v*' | 'checks';
  message: string;
  done: number;
  total: number;
  /** The v* loss after each step so far. */
  losses: number[];
}

export interface EditOutcome {
  spec: EditSpec;
  steps: number;
  losses: number[];
  finalLoss: number;
  deltaRatio: number;
  /** Share of u's entries with its majority sign (paper Fig. 2). */
  uSameSign: number;
  checks: EditCheck[];
  seconds: number;
  /** Seconds spent on C for this layer (0 when it was already known or not needed). */
  covarianceSeconds: number;
}

interface AppliedEdit {
  outcome: EditOutcome;
  update: RomeUpdate;
  /** The edited layer's stored weight before this edit: undo restores it exactly. */
  before: Float32Array;
  /** Model answers before this edit, for the bundle's trueObject. */
  trueObject: string;
}

interface OpenedModel {
  input: OpenedInput;
  /** The unedited model in the CPU engine. */
  base: EditableModel;
  /** GPT-2's configuration and weights (C then comes from the GPT-2 key accumulator); null for the other families. */
  gpt2: { config: Gpt2Config; params: Gpt2Params } | null;
  original: ReadonlyMap<string, Tensor>;
  params: Map<string, Tensor>;
  text: TextTokenizer;
  tokenizer: RomeTokenizer;
  corpus: { name: string; sequences: Int32Array[]; tokens: number } | null;
  stats: { name: string; moments: Map<number, TensorInfo>; tokens: number | null } | null;
  facts: DemoFacts | null;
  /** ROME's context templates by their length setting (sampled once from the unedited model). */
  templates: Map<string, string[]>;
  covariance: Map<number, Float64Array>;
  applied: AppliedEdit[];
}

/** Sentences of C's corpus passed through the model at a time (Cancel and progress get through between slices). */
const CORPUS_SLICE = 64;
const MAX_CORPUS_TOKENS = 500_000;

/** The model with the current weights. */
const current = (m: OpenedModel) => m.base.withParams(m.params);

/** A layer's weight from the analyses' orientation ([d_ff, d_model]) to the model's stored layout. */
function storedFromRows(model: EditableModel, layer: number, rows: Float32Array): Float32Array {
  return model.mlpOutput(layer).layout === 'ff_model' ? rows : transpose(rows, model.dFF, model.dModel);
}

/**
 * ROME in the page (and the CLI): opens a GPT-2, GPT-J or Llama checkpoint into the CPU engine and applies edits in
 * sequence, each to the current weights, as sequential ROME does. C per layer is taken from the unedited
 * model (kmeng01/rome caches it the same way), so an edit depends only on the edits before it: a list of
 * edits recomputes the same weights bit for bit.
 */
export class EditSession {
  private model: OpenedModel | null = null;
  private cancelled = false;

  cancel(): void {
    this.cancelled = true;
  }

  async open(source: EditSource): Promise<EditModelInfo> {
    this.model = null;
    this.cancelled = false;
    const input = source.model.kind === 'opened' ? source.model.input : await openModelInput(source.model);
    const { checkpoint } = input;
    const family = locateLayer(checkpoint, 0).family.id;
    const modelType = checkpoint.config?.modelType;
    if (family !== modelType || !(ENGINE_FAMILIES as readonly string[]).includes(family)) {
      throw new FormatError(checkpoint.label, `is a ${family} checkpoint (config.json model_type "${modelType ?? 'missing'}"); the editor runs ROME on the CPU engine's forward passes of ${ENGINE_FAMILIES.join(', ')}, with each family's published hyper-parameters`);
    }
    const { model: base, gpt2 } = await loadEngineModel(checkpoint, () => this.tick());
    const text = await loadTokenizerBeside(input.resolve, checkpoint.label);
    if (text.idLimit > base.vocabSize) throw new FormatError('tokenizer.json', `has token ids up to ${text.idLimit - 1}, but the model's embedding has ${base.vocabSize} rows: the tokenizer belongs to another model`);
    const corpus = source.corpus ? await this.readCorpus(source.corpus, text, base) : null;
    const stats = source.stats ? await readStats(source.stats, base) : null;
    const facts = source.facts ? await readFacts(source.facts) : null;
    this.model = { input, base, gpt2, original: base.params, params: new Map(base.params), text, tokenizer: romeTokenizerFrom(text), corpus, stats, facts, templates: new Map(), covariance: new Map(), applied: [] };
    return this.info();
  }

  info(): EditModelInfo {
    const m = this.require();
    const c = m.base;
    let parameters = 0;
    for (const t of m.original.values()) parameters += t.size;
    const preset = ROME_PRESETS[c.family];
    return {
      label: m.input.checkpoint.label,
      family: c.family,
      defaultMom2Adjustment: preset.mom2Adjustment,
      defaultVSteps: preset.vSteps,
      layers: c.layers,
      dModel: c.dModel,
      dFF: c.dFF,
      parameters,
      defaultLayer: m.facts?.rome && m.facts.rome.layer < c.layers ? m.facts.rome.layer : romeDefaultLayer(c.layers),
      defaultContextTemplates: m.facts?.rome?.contextTemplates ?? PUBLISHED_CONTEXT_TEMPLATES,
      corpus: m.corpus ? { name: m.corpus.name, sentences: m.corpus.sequences.length, tokens: m.corpus.tokens } : null,
      stats: m.stats ? { name: m.stats.name, layers: [...m.stats.moments.keys()].sort((a, b) => a - b), tokens: m.stats.tokens } : null,
      facts: m.facts,
    };
  }

  /** The edits applied so far, in order. */
  edits(): EditOutcome[] {
    return this.require().applied.map((a) => a.outcome);
  }

  /** ROME for one more edit, applied to the current weights. Cancel leaves the weights as they were. */
  async edit(value: EditSpec, onProgress: (p: EditProgress) => void = () => {}): Promise<EditOutcome> {
    const m = this.require();
    this.cancelled = false;
    const started = performance.now();
    const spec = checkEditSpec(value, 'edit', m.base.layers);
    const { layer, mom2Adjustment } = spec.settings;
    const targetId = m.tokenizer.tokenId(spec.target);
    if (targetId === undefined) throw new FormatError('edit', `the new object "${spec.target}" is not one token of this model's vocabulary`);
    const unknown = m.text.unknownWords(`${spec.prompt.replace('{}', spec.subject)}`);
    if (unknown.length) throw new FormatError('edit', `the tokenizer does not know ${unknown.map((w) => `"${w}"`).join(', ')}: use words of the model's vocabulary`);
    const losses: number[] = [];
    const report = (phase: EditProgress['phase'], message: string, done: number, total: number) => onProgress({ phase, message, done, total, losses: [...losses] });

    let templates = m.templates.get(spec.settings.contextTemplates);
    if (!templates) {
      report('templates', 'sampling ROME\'s context templates from the model', 0, 1);
      await this.yieldToEvents();
      templates = contextTemplates(m.base, m.tokenizer, CONTEXT_TEMPLATE_SEED, parseTemplateLengths(spec.settings.contextTemplates));
      m.templates.set(spec.settings.contextTemplates, templates);
    }
    const covarianceStarted = performance.now();
    const computesC = mom2Adjustment && !m.covariance.has(layer);
    const factor = mom2Adjustment ? await this.covarianceFactor(layer, report) : undefined;
    const covarianceSeconds = computesC ? (performance.now() - covarianceStarted) / 1000 : 0;

    const ctx: RomeContext = { model: current(m), tokenizer: m.tokenizer, contextTemplates: templates, covarianceFactor: factor };
    // The family's published setting (GPT-J, Llama: ROME_PRESETS), the edit's own layer, adjustment and v* steps.
    const hp: RomeHyperparams = { ...(m.gpt2 ? ROME_DEFAULTS : ROME_PRESETS[m.base.family]), layer, mom2Adjustment, vSteps: spec.settings.vSteps, vLr: spec.settings.vLr };
    const request = { subject: spec.subject, prompt: spec.prompt, target: spec.target };
    const { u } = computeLeftVector(ctx, request, hp);
    const steps = rightVectorSteps(ctx, request, hp, u);
    let update: RomeUpdate;
    for (let next = steps.next(); ; next = steps.next()) {
      if (next.done) {
        update = next.value;
        break;
      }
      losses.push(next.value.loss);
      report('v*', `v* step ${next.value.step} of at most ${hp.vSteps}: loss ${next.value.loss.toFixed(3)}`, next.value.step, hp.vSteps);
      await this.yieldToEvents();
    }

    report('checks', 'checking the edit prompt, paraphrases and neighbours', 0, 1);
    const { name, layout } = m.base.mlpOutput(layer);
    const stored = m.params.get(name) as Tensor;
    const before = stored.data;
    const previous = current(m);
    m.params = new Map(m.params);
    m.params.set(name, new Tensor(applyUpdateInLayout(before, layout, u, scaled(update.lambda, spec.settings.strength)), stored.shape, false));
    const checks = editChecks(previous, current(m), m.text, spec, targetId, m.facts);
    const outcome: EditOutcome = {
      spec,
      steps: update.steps,
      losses,
      finalLoss: update.finalLoss,
      deltaRatio: update.deltaRatio,
      uSameSign: sameSignShare(u),
      checks,
      seconds: (performance.now() - started) / 1000,
      covarianceSeconds,
    };
    m.applied.push({ outcome, update, before, trueObject: (checks[0] as EditCheck).before.token });
    return outcome;
  }

  /** Takes back the last edit (its layer's weight returns bit for bit). */
  undo(): EditOutcome[] {
    const m = this.require();
    const last = m.applied.pop();
    if (last) {
      const { name } = m.base.mlpOutput(last.outcome.spec.settings.layer);
      m.params = new Map(m.params);
      m.params.set(name, new Tensor(last.before, (m.params.get(name) as Tensor).shape, false));
    }
    return this.edits();
  }

  /** s in W + s u lambda^T for the last edit; returns the edit prompt's answer at that strength. */
  setStrength(strength: number): TokenGuess {
    const m = this.require();
    const last = m.applied[m.applied.length - 1];
    if (!last) throw new Error('make an edit first');
    const spec = checkEditSpec({ ...last.outcome.spec, settings: { ...last.outcome.spec.settings, strength } }, 'strength', m.base.layers);
    const { name, layout } = m.base.mlpOutput(spec.settings.layer);
    m.params = new Map(m.params);
    m.params.set(name, new Tensor(applyUpdateInLayout(last.before, layout, last.update.u, scaled(last.update.lambda, strength)), (m.params.get(name) as Tensor).shape, false));
    last.outcome = { ...last.outcome, spec };
    return this.answer(spec.prompt.replace('{}', spec.subject), spec.target);
  }

  /** The current model's next-token guess after `prompt`, with `target`'s probability. */
  answer(prompt: string, target: string): TokenGuess {
    const m = this.require();
    const targetId = m.tokenizer.tokenId(target) ?? 0;
    return guessNextTokens(current(m), m.text, [prompt], targetId)[0] as TokenGuess;
  }

  /**
   * The next-token guesses for `prompts` with the current weights, or with one layer's MLP output matrix
   * ([d_ff, d_model]) replaced (a reversal's W~): what the edited, or repaired, model answers.
   */
  answers(prompts: readonly string[], target: string, replace?: { layer: number; weight: Float32Array }): TokenGuess[] {
    const m = this.require();
    let params = m.params;
    if (replace) {
      const { name } = m.base.mlpOutput(replace.layer);
      const stored = params.get(name) as Tensor;
      if (replace.weight.length !== stored.size) throw new Error(`layer ${replace.layer}'s matrix has ${stored.size} values, the replacement ${replace.weight.length}`);
      params = new Map(params);
      params.set(name, new Tensor(storedFromRows(m.base, replace.layer, replace.weight), stored.shape, false));
    }
    return guessNextTokens(m.base.withParams(params), m.text, prompts, m.tokenizer.tokenId(target) ?? 0);
  }

  /** The unedited model's matrix at `layer` ([d_ff, d_model]). */
  originalLayer(layer: number): Float32Array {
    return mlpRows(this.require().base, layer);
  }

  /** The layers the edits changed and their current weights ([d_ff, d_model]), in layer order. */
  changedLayers(): { layer: number; weight: Float32Array }[] {
    const m = this.require();
    const layers = [...new Set(m.applied.map((a) => a.outcome.spec.settings.layer))].sort((a, b) => a - b);
    const model = current(m);
    return layers.map((layer) => ({ layer, weight: mlpRows(model, layer) }));
  }

  /** The opened model (checkpoint, its files and resolver), for writing the edited checkpoint. */
  opened(): OpenedInput {
    return this.require().input;
  }

  /** The edited checkpoint's plan: patched files and the fingerprint of the edited tensors. */
  plan(): Promise<EditedCheckpointPlan> {
    return planEditedCheckpoint(this.require().input, this.changedLayers());
  }

  /** The edited checkpoint as files the page loads like dropped ones, with its fingerprint. */
  async editedCheckpoint(): Promise<{ files: File[]; digest: string; tensors: string[]; changed: string[] }> {
    const plan = await this.plan();
    const changed = plan.patches.map((p) => baseName(p.source.name));
    return { files: await editedCheckpointFiles(this.require().input, plan), digest: plan.digest, tensors: plan.tensors, changed };
  }

  /** The edits as an edit bundle (README "Edit bundle format"): u and lambda (strength applied) with metadata. */
  bundle(): Uint8Array {
    const m = this.require();
    const records: EditRecord[] = m.applied.map((a, id) => {
      const { spec, checks } = a.outcome;
      const share = (kind: EditCheck['kind']) => {
        const list = checks.filter((c) => c.kind === kind);
        return list.length ? list.filter((c) => c.ok).length / list.length : 1;
      };
      const relation = m.facts?.relations.find((r) => r.templates.includes(spec.prompt));
      return {
        id,
        relation: relation?.id ?? '',
        subject: spec.subject,
        prompt: spec.prompt,
        paraphrase: '',
        trueObject: a.trueObject,
        newObject: spec.target,
        layer: spec.settings.layer,
        mom2Adjustment: spec.settings.mom2Adjustment,
        main: true,
        metrics: { efficacy: (checks[0] as EditCheck).ok, paraphrase: share('paraphrase'), neighbourhood: share('neighbour'), steps: a.outcome.steps, finalLoss: a.outcome.finalLoss, deltaRatio: a.outcome.deltaRatio },
        u: a.update.u,
        lambda: scaled(a.update.lambda, spec.settings.strength),
      };
    });
    return writeEditBundle(records, { model: m.input.checkpoint.label, tool: 'edit-forensics editor', sequential: 'true' });
  }

  private async covarianceFactor(layer: number, report: (phase: EditProgress['phase'], message: string, done: number, total: number) => void): Promise<Float64Array> {
    const m = this.require();
    const known = m.covariance.get(layer);
    if (known) return known;
    const stored = m.stats?.moments.get(layer);
    if (stored) {
      report('covariance', `C at layer ${layer} from ${m.stats?.name}`, 0, 1);
      const values = (await readTensorRows(stored, 0)).data;
      if (!values.every(Number.isFinite)) throw new FormatError(m.stats?.name ?? 'stats', 'holds NaN or infinite values', stored.name);
      const { factor } = robustCholesky(Float64Array.from(values), m.base.dFF);
      m.covariance.set(layer, factor);
      return factor;
    }
    if (!m.corpus) throw new FormatError('edit', 'the mom2 adjustment needs a text corpus for C (one sentence a line); give one, or turn the adjustment off');
    const sequences = m.corpus.sequences;
    // GPT-2: the accumulator the demo's statistics were made with; the other families: their keys' moment per slice, weighted by tokens.
    const accumulator = m.gpt2 ? new KeyMomentAccumulator(m.gpt2.config, m.gpt2.params, layer) : null;
    const n = m.base.dFF;
    const sum = new Float64Array(accumulator ? 0 : n * n);
    let tokens = 0;
    for (let i = 0; i < sequences.length; i += CORPUS_SLICE) {
      report('covariance', `C at layer ${layer} over ${m.corpus.name}: sentence ${i} of ${sequences.length}`, i, sequences.length);
      await this.yieldToEvents();
      const slice = sequences.slice(i, i + CORPUS_SLICE);
      if (accumulator) accumulator.add(slice);
      else {
        const part = keyMoment(m.base, layer, slice);
        part.moment.forEach((v, j) => (sum[j] = (sum[j] as number) + v * part.tokens));
        tokens += part.tokens;
      }
    }
    const moment = accumulator ? accumulator.result().moment : sum.map((v) => v / Math.max(1, tokens));
    const { factor } = robustCholesky(moment, n);
    m.covariance.set(layer, factor);
    return factor;
  }

  private async readCorpus(input: FileInput, text: TextTokenizer, model: EditableModel): Promise<{ name: string; sequences: Int32Array[]; tokens: number }> {
    const { name, lines } = await readTextLines(input, { maxBytes: 20_000_000, maxLines: 100_000 });
    const sequences: Int32Array[] = [];
    let tokens = 0;
    for (const line of lines) {
      if (tokens >= MAX_CORPUS_TOKENS) break;
      const ids = text.encode(line).slice(0, model.positions);
      if (ids.some((id) => id >= model.vocabSize)) throw new FormatError(name, 'encodes to token ids beyond the model\'s vocabulary');
      sequences.push(Int32Array.from(ids));
      tokens += ids.length;
    }
    return { name, sequences, tokens };
  }

  private require(): OpenedModel {
    if (!this.model) throw new Error('open a model in the editor first');
    return this.model;
  }

  private tick(): void {
    if (this.cancelled) throw new CancelledError();
  }

  /** Lets the worker answer Cancel (and the page repaint) between steps. */
  private async yieldToEvents(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 0));
    this.tick();
  }
}

function scaled(v: Float32Array, s: number): Float32Array {
  return s === 1 ? v : Float32Array.from(v, (x) => x * s);
}

/** Share of entries with the vector's majority sign. */
export function sameSignShare(u: Float32Array): number {
  let positive = 0;
  for (const x of u) if (x > 0) positive++;
  return Math.max(positive, u.length - positive) / u.length;
}

async function readFacts(input: FileInput): Promise<DemoFacts> {
  const source = await openFileInput(input);
  if (source.size > 20_000_000) throw new FormatError(source.name, 'is over 20 MB');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await source.read(0, source.size)));
  } catch {
    throw new FormatError(source.name, 'is not JSON');
  }
  const j = json as Partial<DemoFacts>;
  if (!Array.isArray(j.relations) || !Array.isArray(j.facts)) throw new FormatError(source.name, 'must have "relations" and "facts" lists');
  const relations = j.relations.filter((r) => typeof r?.id === 'string' && typeof r.name === 'string' && Array.isArray(r.templates) && r.templates.every((t) => typeof t === 'string') && Array.isArray(r.objects) && r.objects.every((o) => typeof o === 'string'));
  const facts = j.facts.filter((f) => typeof f?.subject === 'string' && typeof f.relation === 'string' && typeof f.object === 'string');
  const rome = j.rome && Number.isSafeInteger(j.rome.layer) && j.rome.layer >= 0 && typeof j.rome.contextTemplates === 'string' ? { layer: j.rome.layer, contextTemplates: j.rome.contextTemplates } : undefined;
  return { ...(rome ? { rome } : {}), relations, facts };
}

/** Precomputed C per layer: `layer.{i}.mom2`, F32 [d_ff, d_ff]; the layers it does not hold are computed. */
async function readStats(input: FileInput, model: EditableModel): Promise<{ name: string; moments: Map<number, TensorInfo>; tokens: number | null }> {
  const source = await openFileInput(input);
  const file = await openSafetensors(source);
  const moments = new Map<number, TensorInfo>();
  for (const [name, info] of file.tensors) {
    const match = /^layer\.(\d+)\.mom2$/.exec(name);
    if (!match) continue;
    const layer = Number(match[1]);
    if (layer >= model.layers) throw new FormatError(source.name, `is for a model with more layers (this one has ${model.layers})`, name);
    if (info.dtype !== 'F32' || info.shape.length !== 2 || info.shape[0] !== model.dFF || info.shape[1] !== model.dFF) {
      throw new FormatError(source.name, `must be F32 [${model.dFF}, ${model.dFF}] for this model, found ${info.dtype} [${info.shape.join(', ')}]: the statistics belong to another model`, name);
    }
    moments.set(layer, info);
  }
  if (moments.size === 0) throw new FormatError(source.name, 'holds no layer.{i}.mom2 tensor: not ROME statistics');
  const tokens = Number(file.metadata['tokens']);
  return { name: source.name, moments, tokens: Number.isSafeInteger(tokens) ? tokens : null };
}
