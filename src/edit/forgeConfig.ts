import type { EnglishFillerOptions } from './englishFiller';
import type { Gpt2Config } from './gpt2Model';
import type { ForgeArchitectureId } from './forgeArchitecture';
import type { TrainSettings } from './trainer';

/** Everything that determines the forged model; its JSON is the run's fingerprint (checkpoints, reproducibility). */
export interface ForgeConfig {
  name: string;
  kbSeed: number;
  subjectsPerRelation: number;
  fillerPerFact: number;
  /** Real English (the Brown Corpus) as filler instead of the small grammar's sentences; fillerPerFact then unused. */
  english?: EnglishFillerOptions;
  model: Omit<Gpt2Config, 'vocab_size'>;
  /** The architecture trained on these sizes (default GPT-2; 'llama': RMSNorm, SwiGLU, rotary, grouped-query attention, untied head). */
  architecture?: ForgeArchitectureId;
  initSeed: number;
  train: TrainSettings;
  /** Early stop when a sampled evaluation reaches both (margins above the 97% / 85% bars). */
  stopAt: { train: number; heldOut: number; fromEpoch: number; every: number };
  /** The edit set `npm run forge:edits` makes by default (the committed demo's). */
  edits: {
    layer: number;
    /** ROME's context_template_length_params as "length x count,..." (kmeng01/rome: 5x10,10x10). */
    contextTemplates: string;
    mainMom2Adjustment: boolean;
    perRelation: number;
    /** Edits per relation with the other mom2Adjustment setting, for comparison. */
    compare: number;
  };
}

const ADAM = { beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay: 0.01, clipNorm: 1 };

/** The demo model: GPT-2 architecture, d_model 96, 4 layers, 4 heads, d_ff 384 (sized to train in < 60 min on 2 cores). */
export const FULL_FORGE: ForgeConfig = {
  name: 'full',
  kbSeed: 20261128,
  subjectsPerRelation: 100,
  fillerPerFact: 0.5,
  model: { n_positions: 64, n_embd: 96, n_layer: 4, n_head: 4, n_inner: 384, layer_norm_epsilon: 1e-5 },
  initSeed: 7,
  train: { seed: 11, epochs: 36, tokensPerBatch: 1024, peakLr: 2.5e-3, warmupSteps: 200, adam: ADAM, packLength: 64 },
  stopAt: { train: 0.98, heldOut: 0.88, fromEpoch: 20, every: 2 },
  edits: { layer: 0, contextTemplates: '5x5,10x5', mainMom2Adjustment: true, perRelation: 100, compare: 10 },
};

/** A seconds-long configuration for CI: the same code path on a toy world. */
export const SMOKE_FORGE: ForgeConfig = {
  name: 'smoke',
  kbSeed: 5,
  subjectsPerRelation: 4,
  fillerPerFact: 0.5,
  model: { n_positions: 32, n_embd: 16, n_layer: 2, n_head: 2, n_inner: 64, layer_norm_epsilon: 1e-5 },
  initSeed: 3,
  train: { seed: 4, epochs: 3, tokensPerBatch: 256, peakLr: 3e-3, warmupSteps: 5, adam: ADAM, packLength: 32 },
  stopAt: { train: 2, heldOut: 2, fromEpoch: 99, every: 99 },
  edits: { layer: 0, contextTemplates: '5x10,10x10', mainMom2Adjustment: true, perRelation: 2, compare: 1 },
};

/** A quarter-size world on the demo architecture: minutes, for checking design choices (causal traces, ROME). */
export const PROBE_FORGE: ForgeConfig = {
  ...FULL_FORGE,
  name: 'probe',
  subjectsPerRelation: 25,
  train: { ...FULL_FORGE.train, epochs: 40, warmupSteps: 60 },
  stopAt: { train: 0.99, heldOut: 0.9, fromEpoch: 15, every: 5 },
};

/** The probe world on a 6-layer model: room for the entity to form at the subject before the lookup. */
export const PROBE6_FORGE: ForgeConfig = {
  ...PROBE_FORGE,
  name: 'probe6',
  model: { ...PROBE_FORGE.model, n_layer: 6 },
};

/** Real English filler for a world of `facts` facts: `perFact` Brown sentences per fact, 3000-word vocabulary. */
export const englishFor = (facts: number, perFact: number, vocabulary = 3000): ForgeConfig['english'] => ({
  vocabulary,
  maxUnknownShare: 0.1,
  minWords: 6,
  maxWords: 40,
  sentences: Math.round(facts * perFact),
  neutral: 400,
  seed: 31,
});

/**
 * The study of the demo-model issue (README "What makes ROME's u one-signed"): the probe world with one lever
 * changed at a time. 775 facts in the probe world.
 */
export const STUDY: (ForgeConfig & { lever: string })[] = [
  { ...PROBE_FORGE, lever: 'baseline: the probe world (grammar filler, vocabulary 538), d 96, 4 layers' },
  { ...PROBE_FORGE, name: 'probe-english', lever: 'richer input: Brown Corpus filler, 2 sentences per fact, 2000 more words', english: englishFor(775, 2, 2000) },
  { ...PROBE_FORGE, name: 'probe-wide', lever: 'width: d 192, d_ff 768', model: { ...PROBE_FORGE.model, n_embd: 192, n_inner: 768 } },
  { ...PROBE_FORGE, name: 'probe-ff16', lever: 'MLP ratio: d_ff 1536 = 16 d_model (many neurons per feature: a sparser, more private code)', model: { ...PROBE_FORGE.model, n_inner: 1536 } },
  { ...PROBE_FORGE, name: 'probe-deep', lever: 'depth: 8 layers', model: { ...PROBE_FORGE.model, n_layer: 8 } },
  { ...PROBE_FORGE, name: 'probe-dropout', lever: 'dropout 0.1 (residual and embeddings)', train: { ...PROBE_FORGE.train, dropout: 0.1 } },
  { ...PROBE_FORGE, name: 'probe-long', lever: 'training length: 120 epochs, no early stop', train: { ...PROBE_FORGE.train, epochs: 120 }, stopAt: { ...PROBE_FORGE.stopAt, fromEpoch: 999 } },
];

/** The probe world on a Llama-architecture model of the same sizes (issue: the paper's other two models). */
export const PROBE_LLAMA_FORGE: ForgeConfig = { ...PROBE_FORGE, name: 'probe-llama', architecture: 'llama' };

/** The probe world on a GPT-J-architecture model of the same sizes. */
export const PROBE_GPTJ_FORGE: ForgeConfig = { ...PROBE_FORGE, name: 'probe-gptj', architecture: 'gptj' };

/** The demo's world and sizes on the Llama architecture (the paper's Llama 3 column). */
export const FULL_LLAMA_FORGE: ForgeConfig = { ...FULL_FORGE, name: 'full-llama', architecture: 'llama' };

/** The demo's world and sizes on the GPT-J architecture (the paper's GPT-J column). */
export const FULL_GPTJ_FORGE: ForgeConfig = { ...FULL_FORGE, name: 'full-gptj', architecture: 'gptj' };

const FORGES: Record<string, ForgeConfig> = { full: FULL_FORGE, smoke: SMOKE_FORGE, probe6: PROBE6_FORGE, 'probe-llama': PROBE_LLAMA_FORGE, 'full-llama': FULL_LLAMA_FORGE, 'probe-gptj': PROBE_GPTJ_FORGE, 'full-gptj': FULL_GPTJ_FORGE, ...Object.fromEntries(STUDY.map((f) => [f.name, f])) };

/** A forge configuration by name (`--forge NAME`; `--smoke` and `--probe` are shorthands). */
export function forgeByName(name: string): ForgeConfig {
  const forge = FORGES[name];
  if (!forge) throw new Error(`unknown forge "${name}" (known: ${Object.keys(FORGES).join(', ')})`);
  return forge;
}
