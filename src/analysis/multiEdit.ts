import { dropTopComponents } from '../core/bottomRank';
import { numericalRank } from '../core/editSignature';
import { rowMatrix, subtract } from '../core/matrix';
import type { MatrixBackend } from '../core/matrixBackend';
import { SeededRandom } from '../core/random';
import type { DemoFacts } from '../edit/demoWorld';
import type { ByteSource } from '../formats/byteSource';
import type { TextTokenizer } from '../lm/tokenizer';
import type { EditSession } from './editSession';
import type { EditSpec } from './editSpec';
import { openModelInput } from './modelInput';
import type { RelationProbeFile } from './relationProbeFile';
import { accurateTopTriplets } from './reversal';
import { scanModel } from './scanModel';
import { traceLayer } from './traceModel';

/** Several sequential ROME edits in one matrix (the paper studies single edits only): what each analysis sees. */
export interface MultiEditTrial {
  edits: number;
  trial: number;
  /** Share of the n edits whose prompt answers its new object after all n (later edits can overwrite earlier ones). */
  efficacy: number;
  /** Share answering the new object right after its own edit. */
  efficacyWhenMade: number;
  /** Share of u's entries with the majority sign, averaged over the edits. */
  uSameSign: number;
  /** The scan of W' alone. */
  flagged: boolean;
  falseFlags: number;
  pcsZ: number;
  sigmaRatio: number;
  sigmaRatioZ: number;
  /** W''s top singular values (the scan's, row-normalised), and sigma_n / sigma_{n+1}: one spike per edit shows as a gap after the n-th. */
  spectrum: number[];
  /** The several-edits rule: the spikes it counted (0: it did not fire). */
  spikes: number;
  spikeGap: number;
  /** The key-whitened spectrum's largest gap and its j, and the rules that fired at the edited layer. */
  keyGap: number;
  keyGapIndex: number;
  reasons: string[];
  /** The exact update dW = W' - W: its singular values (top n + 2) and numerical rank (values over 1e-3 sigma_1). */
  diffSigma: number[];
  diffRank: number;
  /** Bottom-rank reversal W~(r, k) of W' alone: share of edit prompts answering the model's pre-edit answer again, and still the new object. */
  reversal: { k: number; restored: number; stillNew: number }[];
  /** The Trace tab on W': its top relation is one of the edits' relations; its object candidates include a new object. */
  probeTopInEdits: boolean | null;
  probeTopIsLast: boolean | null;
  readoutTopInTargets: boolean | null;
  decoderTopInTargets: boolean | null;
}

export interface MultiEditWorld {
  session: EditSession;
  facts: DemoFacts;
  layer: number;
  mom2Adjustment: boolean;
  contextTemplates: string;
  backend: MatrixBackend;
  tokenizer: TextTokenizer;
  probe: RelationProbeFile | null;
  decoder: ByteSource | null;
}

/** n random facts of the world, distinct subjects, each edited to another object of its relation. */
export function sampleEdits(facts: DemoFacts, n: number, seed: number, settings: EditSpec['settings']): EditSpec[] {
  const rng = new SeededRandom(seed);
  const bySubject = new Map<string, DemoFacts['facts']>();
  for (const f of facts.facts) bySubject.set(f.subject, [...(bySubject.get(f.subject) ?? []), f]);
  const subjects = [...bySubject.keys()];
  const chosen: EditSpec[] = [];
  const used = new Set<string>();
  while (chosen.length < n && used.size < subjects.length) {
    const subject = subjects[rng.nextInt(subjects.length)] as string;
    if (used.has(subject)) continue;
    used.add(subject);
    const list = bySubject.get(subject) as DemoFacts['facts'];
    const fact = list[rng.nextInt(list.length)] as DemoFacts['facts'][number];
    const relation = facts.relations.find((r) => r.id === fact.relation);
    if (!relation) continue;
    const others = relation.objects.filter((o) => o !== fact.object);
    if (others.length === 0 || relation.templates.length === 0) continue;
    chosen.push({ subject, prompt: relation.templates[0] as string, target: others[rng.nextInt(others.length)] as string, settings });
  }
  return chosen;
}

/**
 * One trial: n sequential edits from the base, then the scan, the exact diff's spectrum, reversal at k = 1
 * and k = n, and the Trace tab's probe and readouts, all on the final weights. The session is left at the base.
 */
export async function multiEditTrial(world: MultiEditWorld, n: number, trial: number, seed: number): Promise<MultiEditTrial> {
  const { session, layer } = world;
  while (session.edits().length > 0) session.undo();
  const settings: EditSpec['settings'] = { layer, mom2Adjustment: world.mom2Adjustment, vSteps: 20, vLr: 0.5, strength: 1, contextTemplates: world.contextTemplates };
  const specs = sampleEdits(world.facts, n, seed, settings);
  const outcomes = [];
  for (const spec of specs) outcomes.push(await session.edit(spec));
  const prompts = specs.map((s) => s.prompt.replace('{}', s.subject));
  const oldAnswers = outcomes.map((o) => o.checks[0]?.before.token ?? '');
  const isNew = (guesses: { token: string }[]) => guesses.map((g, i) => g.token === specs[i]?.target);
  const share = (flags: boolean[]) => flags.filter(Boolean).length / flags.length;
  const finalAnswers = session.answers(prompts, specs[0]?.target ?? '');

  const [changed] = session.changedLayers();
  if (!changed || changed.layer !== layer) throw new Error('the edits did not change the layer asked for');
  const before = session.originalLayer(layer);
  const dFF = session.info().dFF;
  const dModel = before.length / dFF;
  const edited = rowMatrix(dFF, dModel, changed.weight);

  // The scan of the edited checkpoint as the app builds it (patched files over the base).
  const { files } = await session.editedCheckpoint();
  const checkpoint = (await openModelInput({ kind: 'files', files })).checkpoint;
  const scan = await scanModel(checkpoint, { backend: world.backend });
  const scanned = scan.report.layers.find((l) => l.layer === layer);
  const detail = scan.details.find((d) => d.layer === layer);

  const diff = subtract(edited, rowMatrix(dFF, dModel, Float32Array.from(before)));
  const diffSvd = await accurateTopTriplets(world.backend, diff, Math.min(n + 2, dModel));
  const diffSigma = [...diffSvd.values];
  const diffRank = numericalRank(diffSigma);

  const svd = await accurateTopTriplets(world.backend, edited, Math.max(1, n));
  const reversal = [...new Set([1, n])].map((k) => {
    const approx = dropTopComponents(edited, svd, k);
    const guesses = session.answers(prompts, specs[0]?.target ?? '', { layer, weight: approx.data });
    return { k, restored: share(guesses.map((g, i) => g.token === oldAnswers[i])), stillNew: share(isNew(guesses)) };
  });

  let probeTopInEdits: boolean | null = null;
  let probeTopIsLast: boolean | null = null;
  let readoutTopInTargets: boolean | null = null;
  let decoderTopInTargets: boolean | null = null;
  if (world.probe || world.decoder) {
    const traced = await traceLayer({ checkpoint, original: null, layer, tokenizer: world.tokenizer, probe: world.probe, decoder: world.decoder, backend: world.backend });
    const relations = specs.map((s) => world.facts.relations.find((r) => r.templates.includes(s.prompt))?.id);
    const top = traced.relation?.[0]?.relation;
    if (top !== undefined) {
      probeTopInEdits = relations.includes(top);
      probeTopIsLast = relations[relations.length - 1] === top;
    }
    const targets = new Set(specs.map((s) => s.target));
    const first = (c: { text: string }[] | undefined) => c?.[0]?.text.trim();
    if (traced.trainingFree) readoutTopInTargets = targets.has(first(traced.trainingFree.candidates) ?? '');
    if (traced.decoder) decoderTopInTargets = targets.has(first(traced.decoder.candidates) ?? '');
  }
  while (session.edits().length > 0) session.undo();

  return {
    edits: n,
    trial,
    efficacy: share(isNew(finalAnswers)),
    efficacyWhenMade: share(outcomes.map((o) => o.checks[0]?.ok === true)),
    uSameSign: outcomes.reduce((a, o) => a + o.uSameSign, 0) / outcomes.length,
    flagged: scan.report.verdict.editedLayers.includes(layer),
    falseFlags: scan.report.verdict.editedLayers.filter((l) => l !== layer).length,
    pcsZ: scanned?.pcsZ ?? NaN,
    sigmaRatio: detail?.sigmaRatio ?? NaN,
    sigmaRatioZ: detail?.sigmaRatioZ ?? NaN,
    spectrum: scanned?.sigma ?? [],
    spikes: detail?.spikes ?? 0,
    spikeGap: scanned && scanned.sigma.length > n ? (scanned.sigma[n - 1] as number) / (scanned.sigma[n] as number) : NaN,
    keyGap: detail?.keyGap ?? NaN,
    keyGapIndex: detail?.keyGapIndex ?? 0,
    reasons: detail?.reasons ?? [],
    diffSigma,
    diffRank,
    reversal,
    probeTopInEdits,
    probeTopIsLast,
    readoutTopInTargets,
    decoderTopInTargets,
  };
}
