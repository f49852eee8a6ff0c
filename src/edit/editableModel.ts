import type { Graph, Tensor } from './engine/tensor';
import { type Gpt2Config, gpt2Forward, type Gpt2Params, mlpOutputName } from './gpt2Model';

/** The hooks ROME and the object decoder need of a forward pass (GPT-2's forward has more: tracing, training, readout). */
export interface RomeForwardOptions {
  /** Input vectors in place of the token embeddings ([batch*seq x d_model]; GPT-2 still adds its positions). */
  inputEmbeddings?: Tensor;
  /** Sequence b's MLP output matrix of `layer` acts as W + u_b lambda_b^T in [d_ff, d_model] orientation (u [batch x d_ff], lambda [batch x d_model]). */
  mlpRankOne?: { layer: number; u: Float32Array; lambda: Float32Array };
  /** Rows (flattened batch*seq positions) whose logits are wanted; all rows when absent. */
  logitRows?: Int32Array;
  /** Records the MLP keys (the output projection's inputs) of `layer`; with `stop`, the pass ends there. */
  captureKeys?: { layer: number; keys?: Tensor; stop?: boolean };
  /** Records the MLP output (after the output projection and its bias) of this layer. */
  captureMlpOut?: { layer: number; out?: Tensor };
  /** Records the residual stream after `layer` (everything the layer adds included). */
  captureResidual?: { layer: number; residual?: Tensor };
  /** Starts from a residual stream recorded after `layer`, skipping everything up to it. */
  resumeAfter?: { layer: number; residual: Tensor };
}

/**
 * How the MLP output matrix is stored: 'ff_model' = [d_ff, d_model] (GPT-2's Conv1D), 'model_ff' =
 * [d_model, d_ff] (nn.Linear: GPT-J's fc_out, Llama's down_proj). ROME's W + u Lambda^T is in the first;
 * the second takes its transpose, W + Lambda u^T.
 */
export type MlpLayout = 'ff_model' | 'model_ff';

/** A model ROME can edit: its sizes, a forward pass with ROME's hooks, and where its MLP output matrices are. */
export interface EditableModel {
  readonly family: 'gpt2' | 'gptj' | 'llama';
  readonly dModel: number;
  readonly dFF: number;
  readonly layers: number;
  readonly vocabSize: number;
  /** Longest input the model takes (GPT-2's learnt positions; the rotary families' configured maximum). */
  readonly positions: number;
  readonly params: ReadonlyMap<string, Tensor>;
  /** Name of the token embedding matrix [vocab, d_model]. */
  readonly tokenEmbedding: string;
  /** The prefix every parameter of block `layer` has (e.g. `model.layers.3.`). */
  blockPrefix(layer: number): string;
  /** The same architecture over other parameters (an edited or tuned copy). */
  withParams(params: ReadonlyMap<string, Tensor>): EditableModel;
  forward(g: Graph | null, ids: Int32Array, batch: number, seq: number, options?: RomeForwardOptions): Tensor;
  mlpOutput(layer: number): { name: string; layout: MlpLayout };
}

export function gpt2Editable(config: Gpt2Config, params: Gpt2Params): EditableModel {
  return {
    family: 'gpt2',
    dModel: config.n_embd,
    dFF: config.n_inner,
    layers: config.n_layer,
    vocabSize: config.vocab_size,
    positions: config.n_positions,
    params,
    tokenEmbedding: 'transformer.wte.weight',
    blockPrefix: (layer) => `transformer.h.${layer}.`,
    withParams: (p) => gpt2Editable(config, p as Gpt2Params),
    forward: (g, ids, batch, seq, options) => gpt2Forward(g, config, params, ids, batch, seq, options),
    mlpOutput: (layer) => ({ name: mlpOutputName(layer), layout: 'ff_model' }),
  };
}

/** ROME's update written into a stored MLP output matrix: W + u Lambda^T ([d_ff, d_model]) or W + Lambda u^T ([d_model, d_ff]). */
export function applyUpdateInLayout(stored: Float32Array, layout: MlpLayout, u: Float32Array, lambda: Float32Array, strength = 1): Float32Array {
  const out = Float32Array.from(stored);
  const [rows, cols, left, right] = layout === 'ff_model' ? [u.length, lambda.length, u, lambda] : [lambda.length, u.length, lambda, u];
  if (stored.length !== rows * cols) throw new RangeError(`the matrix has ${stored.length} values, the update is ${rows} x ${cols}`);
  for (let i = 0; i < rows; i++) {
    const a = strength * (left[i] as number);
    for (let j = 0; j < cols; j++) out[i * cols + j] = (out[i * cols + j] as number) + a * (right[j] as number);
  }
  return out;
}
