import { SeededRandom } from '../core/random';
import type { EditableModel } from './editableModel';
import { Tensor, type Graph } from './engine/tensor';
import { gptjEditable, llamaEditable } from './familyModels';
import type { GptjConfig } from './gptjNeoxForward';
import { type Gpt2Config, gpt2Forward, gpt2ParamShapes, initGpt2 } from './gpt2Model';
import { gpt2Editable } from './editableModel';
import type { LlamaConfig } from './llamaForward';

/** The architectures the forge trains (issue: the paper's other two models). */
export type ForgeArchitectureId = 'gpt2' | 'llama' | 'gptj';

/**
 * One architecture of the forge on the world's sizes (d_model, d_ff, layers, heads from the forge config):
 * its parameters by Hugging Face name, initialisation, the training forward, the model ROME edits, and
 * config.json as Hugging Face writes it.
 */
export interface ForgeArchitecture {
  id: ForgeArchitectureId;
  paramShapes(): [string, number[]][];
  init(seed: number): Map<string, Tensor>;
  /** Logits [rows, vocab]; dropout only where the architecture was trained with it (GPT-2). */
  trainingForward(g: Graph | null, params: ReadonlyMap<string, Tensor>, ids: Int32Array, batch: number, seq: number, dropout?: { p: number; rng: SeededRandom }): Tensor;
  editable(params: ReadonlyMap<string, Tensor>): EditableModel;
  hfConfig(): Record<string, unknown>;
}

/** Llama on the GPT-2 world's sizes: the same d_model, d_ff and heads, half as many key-value heads (grouped-query attention), RMSNorm, SwiGLU, untied head. */
export function llamaConfigFor(c: Gpt2Config): LlamaConfig & { max_position_embeddings: number } {
  return {
    vocab_size: c.vocab_size,
    hidden_size: c.n_embd,
    intermediate_size: c.n_inner,
    num_hidden_layers: c.n_layer,
    num_attention_heads: c.n_head,
    num_key_value_heads: Math.max(1, c.n_head / 2),
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: false,
    max_position_embeddings: c.n_positions,
  };
}

export function llamaParamShapes(c: LlamaConfig): [string, number[]][] {
  const d = c.hidden_size;
  const ff = c.intermediate_size;
  const kv = (d / c.num_attention_heads) * (c.num_key_value_heads ?? c.num_attention_heads);
  const out: [string, number[]][] = [['model.embed_tokens.weight', [c.vocab_size, d]]];
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `model.layers.${i}.`;
    out.push(
      [`${l}input_layernorm.weight`, [d]],
      [`${l}self_attn.q_proj.weight`, [d, d]],
      [`${l}self_attn.k_proj.weight`, [kv, d]],
      [`${l}self_attn.v_proj.weight`, [kv, d]],
      [`${l}self_attn.o_proj.weight`, [d, d]],
      [`${l}post_attention_layernorm.weight`, [d]],
      [`${l}mlp.gate_proj.weight`, [ff, d]],
      [`${l}mlp.up_proj.weight`, [ff, d]],
      [`${l}mlp.down_proj.weight`, [d, ff]],
    );
  }
  out.push(['model.norm.weight', [d]], ['lm_head.weight', [c.vocab_size, d]]);
  return out;
}

/** Llama's usual initialisation at this scale: N(0, 0.02), the residual outputs (o_proj, down_proj) scaled by 1/sqrt(2 layers), norm gains 1. */
export function initLlama(c: LlamaConfig, seed: number): Map<string, Tensor> {
  const rng = new SeededRandom(seed);
  const params = new Map<string, Tensor>();
  for (const [name, shape] of llamaParamShapes(c)) {
    const t = Tensor.zeros(shape, true);
    if (name.endsWith('norm.weight')) t.data.fill(1);
    else {
      const std = /o_proj|down_proj/.test(name) ? 0.02 / Math.sqrt(2 * c.num_hidden_layers) : 0.02;
      for (let i = 0; i < t.size; i++) t.data[i] = rng.gaussian() * std;
    }
    params.set(name, t);
  }
  return params;
}

/** GPT-J on the GPT-2 world's sizes: parallel attention and MLP on one layer norm, rotary on a quarter of each head (GPT-J 6B: 64 of 256), biased untied head. */
export function gptjConfigFor(c: Gpt2Config): GptjConfig & { n_positions: number } {
  const headDim = c.n_embd / c.n_head;
  return {
    vocab_size: c.vocab_size,
    n_positions: c.n_positions,
    n_embd: c.n_embd,
    n_layer: c.n_layer,
    n_head: c.n_head,
    n_inner: c.n_inner,
    rotary_dim: Math.max(2, 2 * Math.floor(headDim / 8)),
    layer_norm_epsilon: c.layer_norm_epsilon,
  };
}

export function gptjParamShapes(c: GptjConfig): [string, number[]][] {
  const d = c.n_embd;
  const ff = c.n_inner ?? 4 * d;
  const out: [string, number[]][] = [['transformer.wte.weight', [c.vocab_size, d]]];
  for (let i = 0; i < c.n_layer; i++) {
    const l = `transformer.h.${i}.`;
    out.push(
      [`${l}ln_1.weight`, [d]],
      [`${l}ln_1.bias`, [d]],
      [`${l}attn.q_proj.weight`, [d, d]],
      [`${l}attn.k_proj.weight`, [d, d]],
      [`${l}attn.v_proj.weight`, [d, d]],
      [`${l}attn.out_proj.weight`, [d, d]],
      [`${l}mlp.fc_in.weight`, [ff, d]],
      [`${l}mlp.fc_in.bias`, [ff]],
      [`${l}mlp.fc_out.weight`, [d, ff]],
      [`${l}mlp.fc_out.bias`, [d]],
    );
  }
  out.push(['transformer.ln_f.weight', [d]], ['transformer.ln_f.bias', [d]], ['lm_head.weight', [c.vocab_size, d]], ['lm_head.bias', [c.vocab_size]]);
  return out;
}

/** GPT-J's initialisation at this scale: N(0, 0.02) weights, residual outputs scaled by 1/sqrt(2 layers), biases 0, norm gains 1. */
export function initGptj(c: GptjConfig, seed: number): Map<string, Tensor> {
  const rng = new SeededRandom(seed);
  const params = new Map<string, Tensor>();
  for (const [name, shape] of gptjParamShapes(c)) {
    const t = Tensor.zeros(shape, true);
    if (/ln_\w+\.weight$/.test(name)) t.data.fill(1);
    else if (name.endsWith('.weight')) {
      const std = /out_proj|fc_out/.test(name) ? 0.02 / Math.sqrt(2 * c.n_layer) : 0.02;
      for (let i = 0; i < t.size; i++) t.data[i] = rng.gaussian() * std;
    }
    params.set(name, t);
  }
  return params;
}

export function forgeArchitecture(id: ForgeArchitectureId, c: Gpt2Config): ForgeArchitecture {
  if (id === 'gptj') {
    const jc = gptjConfigFor(c);
    return {
      id,
      paramShapes: () => gptjParamShapes(jc),
      init: (seed) => initGptj(jc, seed),
      trainingForward: (g, params, ids, batch, seq) => gptjEditable(jc, params).forward(g, ids, batch, seq),
      editable: (params) => gptjEditable(jc, params),
      hfConfig: () => ({
        architectures: ['GPTJForCausalLM'],
        model_type: 'gptj',
        vocab_size: jc.vocab_size,
        n_positions: jc.n_positions,
        n_embd: jc.n_embd,
        n_layer: jc.n_layer,
        n_head: jc.n_head,
        n_inner: jc.n_inner,
        rotary_dim: jc.rotary_dim,
        activation_function: 'gelu_new',
        layer_norm_epsilon: jc.layer_norm_epsilon,
        tie_word_embeddings: false,
        bos_token_id: 0,
        eos_token_id: 0,
      }),
    };
  }
  if (id === 'gpt2') {
    return {
      id,
      paramShapes: () => gpt2ParamShapes(c),
      init: (seed) => initGpt2(c, seed),
      trainingForward: (g, params, ids, batch, seq, dropout) => gpt2Forward(g, c, params as Map<string, Tensor>, ids, batch, seq, { dropout }),
      editable: (params) => gpt2Editable(c, params as Map<string, Tensor>),
      hfConfig: () => ({}),
    };
  }
  const lc = llamaConfigFor(c);
  return {
    id,
    paramShapes: () => llamaParamShapes(lc),
    init: (seed) => initLlama(lc, seed),
    trainingForward: (g, params, ids, batch, seq) => llamaEditable(lc, params).forward(g, ids, batch, seq),
    editable: (params) => llamaEditable(lc, params),
    hfConfig: () => ({
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      vocab_size: lc.vocab_size,
      hidden_size: lc.hidden_size,
      intermediate_size: lc.intermediate_size,
      num_hidden_layers: lc.num_hidden_layers,
      num_attention_heads: lc.num_attention_heads,
      num_key_value_heads: lc.num_key_value_heads,
      max_position_embeddings: lc.max_position_embeddings,
      rms_norm_eps: lc.rms_norm_eps,
      rope_theta: lc.rope_theta,
      hidden_act: 'silu',
      tie_word_embeddings: false,
      bos_token_id: 0,
      eos_token_id: 0,
    }),
  };
}
