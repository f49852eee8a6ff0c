import { SeededRandom } from '../core/random';
import * as ops from './engine/ops';
import { type Graph, Tensor } from './engine/tensor';

/** GPT-2 hyper-parameters, named as in Hugging Face's config.json. */
export interface Gpt2Config {
  vocab_size: number;
  n_positions: number;
  n_embd: number;
  n_layer: number;
  n_head: number;
  n_inner: number;
  layer_norm_epsilon: number;
}

/** Parameters by their Hugging Face names (GPT2LMHeadModel, `transformer.` prefix, tied lm_head). */
export type Gpt2Params = Map<string, Tensor>;

export const mlpOutputName = (layer: number) => `transformer.h.${layer}.mlp.c_proj.weight`;

/** Names and shapes of every parameter, in a fixed order (the order they are saved in). */
export function gpt2ParamShapes(c: Gpt2Config): [string, number[]][] {
  const d = c.n_embd;
  const out: [string, number[]][] = [
    ['transformer.wte.weight', [c.vocab_size, d]],
    ['transformer.wpe.weight', [c.n_positions, d]],
  ];
  for (let i = 0; i < c.n_layer; i++) {
    const p = `transformer.h.${i}`;
    out.push(
      [`${p}.ln_1.weight`, [d]],
      [`${p}.ln_1.bias`, [d]],
      [`${p}.attn.c_attn.weight`, [d, 3 * d]],
      [`${p}.attn.c_attn.bias`, [3 * d]],
      [`${p}.attn.c_proj.weight`, [d, d]],
      [`${p}.attn.c_proj.bias`, [d]],
      [`${p}.ln_2.weight`, [d]],
      [`${p}.ln_2.bias`, [d]],
      [`${p}.mlp.c_fc.weight`, [d, c.n_inner]],
      [`${p}.mlp.c_fc.bias`, [c.n_inner]],
      [`${p}.mlp.c_proj.weight`, [c.n_inner, d]],
      [`${p}.mlp.c_proj.bias`, [d]],
    );
  }
  out.push(['transformer.ln_f.weight', [d]], ['transformer.ln_f.bias', [d]]);
  return out;
}

/** GPT-2's initialisation: N(0, 0.02) weights, residual projections scaled by 1/sqrt(2 n_layer), LN gains 1. */
export function initGpt2(c: Gpt2Config, seed: number): Gpt2Params {
  const rng = new SeededRandom(seed);
  const params: Gpt2Params = new Map();
  for (const [name, shape] of gpt2ParamShapes(c)) {
    const t = Tensor.zeros(shape, true);
    if (name.endsWith('ln_1.weight') || name.endsWith('ln_2.weight') || name.endsWith('ln_f.weight')) t.data.fill(1);
    else if (name.endsWith('.weight')) {
      const std = name.endsWith('c_proj.weight') ? 0.02 / Math.sqrt(2 * c.n_layer) : 0.02;
      for (let i = 0; i < t.size; i++) t.data[i] = rng.gaussian() * std;
    }
    params.set(name, t);
  }
  return params;
}

export interface ForwardOptions {
  /** Rows (flattened batch*seq positions) whose logits are wanted; all rows when absent. */
  logitRows?: Int32Array;
  /** Records the MLP keys (and pre-activations) of `layer`; with `stop`, the pass ends there (returning the keys). */
  captureKeys?: { layer: number; keys?: Tensor; preActivations?: Tensor; stop?: boolean };
  /** Records the MLP output (after c_proj and its bias) of this layer. */
  captureMlpOut?: { layer: number; out?: Tensor };
  /** Adds `delta` to the MLP output of `layer` at the listed rows (ROME's v* search). */
  mlpDelta?: { layer: number; delta: Tensor; rows: Int32Array };
  /** Uses this matrix as the MLP output projection of `layer` instead of the stored one. */
  mlpWeight?: { layer: number; weight: Tensor };
  /** Records the residual stream after `layer` (its attention and MLP added). */
  captureResidual?: { layer: number; residual?: Tensor };
  /** Starts from a residual stream recorded after `layer`, skipping everything up to it. */
  resumeAfter?: { layer: number; residual: Tensor };
  /** Adds these values to the embeddings of consecutive rows from `row` (causal tracing's corruption). */
  embeddingNoise?: { row: number; values: Float32Array };
  /** Overwrites the residual stream after `layer` at `row` with `value` (causal tracing's restoration). */
  patchResidual?: { layer: number; row: number; value: Float32Array };
  /** Input vectors [batch*seq, d] used instead of token embeddings (position embeddings still added). */
  inputEmbeddings?: Tensor;
  /** Sequence b's MLP output projection of `layer` is W + u_b lambda_b^T (u [batch x d_ff], lambda [batch x d]). */
  mlpRankOne?: { layer: number; u: Float32Array; lambda: Float32Array };
  /** Training only: GPT-2's dropout on the embeddings and on each block's attention and MLP outputs. */
  dropout?: { p: number; rng: SeededRandom };
  /** Overwrites the MLP output of `layer` at `rows` (training-free object readout writes a value there). */
  mlpReplace?: { layer: number; rows: Int32Array; values: Float32Array };
}

function param(params: Gpt2Params, name: string): Tensor {
  const t = params.get(name);
  if (!t) throw new Error(`missing parameter ${name}`);
  return t;
}

/**
 * Forward pass over `batch` sequences of `seq` tokens (ids row-major). Returns logits [rows, vocab]. The
 * reference forward of the project: the ONNX runtimes are checked against it.
 */
export function gpt2Forward(g: Graph | null, c: Gpt2Config, params: Gpt2Params, ids: Int32Array, batch: number, seq: number, options: ForwardOptions = {}): Tensor {
  if (ids.length !== batch * seq) throw new RangeError(`${ids.length} ids for ${batch} x ${seq}`);
  if (seq > c.n_positions) throw new RangeError(`sequence of ${seq} exceeds n_positions ${c.n_positions}`);
  const d = c.n_embd;
  const positions = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) positions[i] = i % seq;
  const resume = options.resumeAfter;
  let rowsPicked = false;
  const inputs = options.inputEmbeddings;
  if (inputs && inputs.size !== ids.length * d) throw new RangeError(`inputEmbeddings of ${inputs.size} values for ${ids.length} positions of ${d}`);
  let h = resume ? resume.residual : ops.add(g, inputs ?? ops.embedding(g, param(params, 'transformer.wte.weight'), ids), ops.embedding(g, param(params, 'transformer.wpe.weight'), positions));
  if (options.embeddingNoise && !resume) {
    const noisy = Float32Array.from(h.data);
    options.embeddingNoise.values.forEach((v, i) => {
      noisy[options.embeddingNoise!.row * d + i] = (noisy[options.embeddingNoise!.row * d + i] as number) + v;
    });
    h = new Tensor(noisy, h.shape);
  }
  const drop = (x: Tensor) => (options.dropout ? ops.dropout(g, x, options.dropout.p, options.dropout.rng) : x);
  if (!resume) h = drop(h);
  const shape = { batch, seq, heads: c.n_head, kvHeads: c.n_head, headDim: d / c.n_head };
  for (let layer = resume ? resume.layer + 1 : 0; layer < c.n_layer; layer++) {
    const p = (s: string) => param(params, `transformer.h.${layer}.${s}`);
    const a = ops.layerNorm(g, h, p('ln_1.weight'), p('ln_1.bias'), c.layer_norm_epsilon);
    const qkv = ops.linear(g, a, p('attn.c_attn.weight'), p('attn.c_attn.bias'));
    // In the last layer only the rows whose logits are wanted matter: queries, attention output and MLP are
    // computed for those rows alone (keys and values still cover every position). Nothing records that layer.
    const lastLayer = layer === c.n_layer - 1;
    const touched = [options.mlpDelta, options.patchResidual, options.mlpRankOne, options.mlpReplace].some((o) => o?.layer === layer);
    const onlyRows = lastLayer && options.logitRows && !options.captureKeys && !options.captureMlpOut && !options.captureResidual && !touched ? options.logitRows : undefined;
    let q = ops.columns(g, qkv, 0, d);
    if (onlyRows) {
      q = ops.gatherRows(g, q, onlyRows);
      h = ops.gatherRows(g, h, onlyRows);
      rowsPicked = true;
    }
    const att = ops.causalAttention(g, q, ops.columns(g, qkv, d, d), ops.columns(g, qkv, 2 * d, d), shape, onlyRows);
    h = ops.add(g, h, drop(ops.linear(g, att, p('attn.c_proj.weight'), p('attn.c_proj.bias'))));
    const m = ops.layerNorm(g, h, p('ln_2.weight'), p('ln_2.bias'), c.layer_norm_epsilon);
    const preActivations = ops.linear(g, m, p('mlp.c_fc.weight'), p('mlp.c_fc.bias'));
    const keys = ops.geluTanh(g, preActivations);
    if (options.captureKeys?.layer === layer) {
      Object.assign(options.captureKeys, { keys, preActivations });
      if (options.captureKeys.stop) return keys;
    }
    const weight = options.mlpWeight?.layer === layer ? options.mlpWeight.weight : p('mlp.c_proj.weight');
    let mlpOut = ops.linear(g, keys, weight, p('mlp.c_proj.bias'));
    if (options.mlpRankOne?.layer === layer) mlpOut = ops.addRankOnePerSequence(g, mlpOut, keys, options.mlpRankOne.u, options.mlpRankOne.lambda, seq);
    if (options.mlpDelta?.layer === layer) mlpOut = ops.addAtRows(g, mlpOut, options.mlpDelta.delta, options.mlpDelta.rows);
    if (options.mlpReplace?.layer === layer) mlpOut = ops.replaceRows(g, mlpOut, options.mlpReplace.rows, options.mlpReplace.values);
    if (options.captureMlpOut?.layer === layer) options.captureMlpOut.out = mlpOut;
    h = ops.add(g, h, drop(mlpOut));
    const patch = options.patchResidual;
    if (patch?.layer === layer) {
      const patched = Float32Array.from(h.data);
      patched.set(patch.value, patch.row * d);
      h = new Tensor(patched, h.shape);
    }
    if (options.captureResidual?.layer === layer) options.captureResidual.residual = h;
  }
  if (options.logitRows && !rowsPicked) h = ops.gatherRows(g, h, options.logitRows);
  const final = ops.layerNorm(g, h, param(params, 'transformer.ln_f.weight'), param(params, 'transformer.ln_f.bias'), c.layer_norm_epsilon);
  return ops.matmulNT(g, final, param(params, 'transformer.wte.weight'));
}

/** The same parameter values, none of them requiring gradients (ROME optimises one vector, not weights). */
export function frozen(params: Gpt2Params): Gpt2Params {
  return new Map([...params].map(([name, t]) => [name, new Tensor(t.data, t.shape, false)]));
}

/** Parameter count. */
export function countParams(c: Gpt2Config): number {
  return gpt2ParamShapes(c).reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0);
}
