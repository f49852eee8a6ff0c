import * as ops from './engine/ops';
import type { Graph, Tensor } from './engine/tensor';
import type { EditableModel, RomeForwardOptions } from './editableModel';
import type { GptjConfig } from './gptjNeoxForward';
import type { LlamaConfig } from './llamaForward';

/**
 * GPT-J and Llama forward passes with ROME's hooks, differentiable (the v* search backpropagates through
 * every layer after the edited one), Hugging Face names and nn.Linear layouts. Without options they compute
 * what the reference forwards (llamaForward, gptjForward) compute; tests hold them to it.
 */

/** Positions assumed when a config gives no maximum (rotary models have no learnt position table to bound them). */
const DEFAULT_POSITIONS = 2048;

function getter(params: ReadonlyMap<string, Tensor>) {
  return (name: string) => {
    const t = params.get(name);
    if (!t) throw new Error(`missing parameter ${name}`);
    return t;
  };
}

/** The loop shared by both families: where to start, what to record, and the rows whose logits are wanted. */
function runLayers(
  layers: number,
  embed: () => Tensor,
  block: (h: Tensor, i: number, hooks: { keys: (k: Tensor) => boolean; mlpOut: (m: Tensor, keys: Tensor) => Tensor }) => Tensor | null,
  head: (h: Tensor) => Tensor,
  g: Graph | null,
  o: RomeForwardOptions,
  seq: number,
): Tensor {
  let h = o.resumeAfter ? o.resumeAfter.residual : (o.inputEmbeddings ?? embed());
  let stopped: Tensor | null = null;
  for (let i = o.resumeAfter ? o.resumeAfter.layer + 1 : 0; i < layers; i++) {
    const next = block(h, i, {
      keys: (k) => {
        if (o.captureKeys?.layer !== i) return false;
        o.captureKeys.keys = k;
        if (o.captureKeys.stop) stopped = k;
        return o.captureKeys.stop === true;
      },
      mlpOut: (m, keys) => {
        const out = o.mlpRankOne?.layer === i ? ops.addRankOnePerSequence(g, m, keys, o.mlpRankOne.u, o.mlpRankOne.lambda, seq) : m;
        if (o.captureMlpOut?.layer === i) o.captureMlpOut.out = out;
        return out;
      },
    });
    if (next === null) return stopped as unknown as Tensor;
    h = next;
    if (o.captureResidual?.layer === i) o.captureResidual.residual = h;
  }
  // The final norm works row by row: picking the wanted rows first gives the same logits for less work.
  return head(o.logitRows ? ops.gatherRows(g, h, o.logitRows) : h);
}

/** Llama: RMSNorm, rotary on whole heads in halves, grouped-query attention, SwiGLU (keys = silu(gate x) * up x), untied or tied head. */
export function llamaEditable(c: LlamaConfig & { max_position_embeddings?: number }, params: ReadonlyMap<string, Tensor>): EditableModel {
  const p = getter(params);
  const H = c.num_attention_heads;
  const HK = c.num_key_value_heads ?? H;
  const D = c.hidden_size / H;
  const head = c.tie_word_embeddings || !params.has('lm_head.weight') ? 'model.embed_tokens.weight' : 'lm_head.weight';
  return {
    family: 'llama',
    dModel: c.hidden_size,
    dFF: c.intermediate_size,
    layers: c.num_hidden_layers,
    vocabSize: c.vocab_size,
    positions: c.max_position_embeddings ?? DEFAULT_POSITIONS,
    params,
    tokenEmbedding: 'model.embed_tokens.weight',
    blockPrefix: (layer) => `model.layers.${layer}.`,
    withParams: (p) => llamaEditable(c, p),
    mlpOutput: (layer) => ({ name: `model.layers.${layer}.mlp.down_proj.weight`, layout: 'model_ff' }),
    forward(g, ids, batch, seq, o = {}) {
      const rope = (heads: number) => ({ seq, heads, headDim: D, rotaryDim: D, base: c.rope_theta ?? 10000, interleaved: false });
      return runLayers(
        c.num_hidden_layers,
        () => ops.embedding(g, p('model.embed_tokens.weight'), ids),
        (h, i, hooks) => {
          const l = `model.layers.${i}.`;
          const x = ops.rmsNorm(g, h, p(`${l}input_layernorm.weight`), c.rms_norm_eps);
          const q = ops.rotary(g, ops.linear(g, x, p(`${l}self_attn.q_proj.weight`), null, 'out_in'), rope(H));
          const k = ops.rotary(g, ops.linear(g, x, p(`${l}self_attn.k_proj.weight`), null, 'out_in'), rope(HK));
          const v = ops.linear(g, x, p(`${l}self_attn.v_proj.weight`), null, 'out_in');
          const att = ops.causalAttention(g, q, k, v, { batch, seq, heads: H, kvHeads: HK, headDim: D });
          const mid = ops.add(g, h, ops.linear(g, att, p(`${l}self_attn.o_proj.weight`), null, 'out_in'));
          const m = ops.rmsNorm(g, mid, p(`${l}post_attention_layernorm.weight`), c.rms_norm_eps);
          const keys = ops.mul(g, ops.silu(g, ops.linear(g, m, p(`${l}mlp.gate_proj.weight`), null, 'out_in')), ops.linear(g, m, p(`${l}mlp.up_proj.weight`), null, 'out_in'));
          if (hooks.keys(keys)) return null;
          const out = hooks.mlpOut(ops.linear(g, keys, p(`${l}mlp.down_proj.weight`), null, 'out_in'), keys);
          return ops.add(g, mid, out);
        },
        (h) => ops.matmulNT(g, ops.rmsNorm(g, h, p('model.norm.weight'), c.rms_norm_eps), p(head)),
        g,
        o,
        seq,
      );
    },
  };
}

/** GPT-J: attention and MLP in parallel on one layer norm, rotary on the first rotary_dim of each head in adjacent pairs, gelu-tanh, biased head. */
export function gptjEditable(c: GptjConfig & { n_positions?: number }, params: ReadonlyMap<string, Tensor>): EditableModel {
  const p = getter(params);
  const d = c.n_embd;
  const H = c.n_head;
  const D = d / H;
  const ff = c.n_inner ?? 4 * d;
  return {
    family: 'gptj',
    dModel: d,
    dFF: ff,
    layers: c.n_layer,
    vocabSize: c.vocab_size,
    positions: c.n_positions ?? DEFAULT_POSITIONS,
    params,
    tokenEmbedding: 'transformer.wte.weight',
    blockPrefix: (layer) => `transformer.h.${layer}.`,
    withParams: (p) => gptjEditable(c, p),
    mlpOutput: (layer) => ({ name: `transformer.h.${layer}.mlp.fc_out.weight`, layout: 'model_ff' }),
    forward(g, ids, batch, seq, o = {}) {
      const rope = { seq, heads: H, headDim: D, rotaryDim: c.rotary_dim, base: 10000, interleaved: true };
      return runLayers(
        c.n_layer,
        () => ops.embedding(g, p('transformer.wte.weight'), ids),
        (h, i, hooks) => {
          const l = `transformer.h.${i}.`;
          const x = ops.layerNorm(g, h, p(`${l}ln_1.weight`), p(`${l}ln_1.bias`), c.layer_norm_epsilon);
          const q = ops.rotary(g, ops.linear(g, x, p(`${l}attn.q_proj.weight`), null, 'out_in'), rope);
          const k = ops.rotary(g, ops.linear(g, x, p(`${l}attn.k_proj.weight`), null, 'out_in'), rope);
          const v = ops.linear(g, x, p(`${l}attn.v_proj.weight`), null, 'out_in');
          const att = ops.linear(g, ops.causalAttention(g, q, k, v, { batch, seq, heads: H, kvHeads: H, headDim: D }), p(`${l}attn.out_proj.weight`), null, 'out_in');
          const keys = ops.geluTanh(g, ops.linear(g, x, p(`${l}mlp.fc_in.weight`), p(`${l}mlp.fc_in.bias`), 'out_in'));
          if (hooks.keys(keys)) return null;
          const out = hooks.mlpOut(ops.linear(g, keys, p(`${l}mlp.fc_out.weight`), p(`${l}mlp.fc_out.bias`), 'out_in'), keys);
          // Parallel block: the MLP's output joins the residual with the attention's, so a delta added to it
          // (ROME's v*) is a delta added to the residual after the layer, as in GPT-2 and Llama.
          return ops.add(g, ops.add(g, h, att), out);
        },
        (h) => ops.linear(g, ops.layerNorm(g, h, p('transformer.ln_f.weight'), p('transformer.ln_f.bias'), c.layer_norm_epsilon), p('lm_head.weight'), p('lm_head.bias'), 'out_in'),
        g,
        o,
        seq,
      );
    },
  };
}
