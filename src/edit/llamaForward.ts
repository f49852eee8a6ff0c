import * as ops from './engine/ops';
import type { LlamaGraphConfig } from '../lm/graphs/llamaGraph';
import type { Tensor } from './engine/tensor';

/** The same config fields as the ONNX graph reads (positions come from the prompt length here). */
export type LlamaConfig = Omit<LlamaGraphConfig, 'max_position_embeddings'>;

/**
 * Reference forward of a Llama checkpoint (RMSNorm, rotary on whole heads in halves, grouped-query
 * attention, SwiGLU), on the forge engine, with Hugging Face tensor names and nn.Linear layouts. Positions
 * are 0..seq-1. Returns logits [batch*seq, vocab]. The ONNX graph is checked against it.
 */
export function llamaForward(c: LlamaConfig, params: Map<string, Tensor>, ids: Int32Array, batch: number, seq: number): Tensor {
  const p = (name: string) => {
    const t = params.get(name);
    if (!t) throw new Error(`missing parameter ${name}`);
    return t;
  };
  const H = c.num_attention_heads;
  const HK = c.num_key_value_heads ?? H;
  const D = c.hidden_size / H;
  const rope = (heads: number) => ({ seq, heads, headDim: D, rotaryDim: D, base: c.rope_theta ?? 10000, interleaved: false });
  let h = ops.embedding(null, p('model.embed_tokens.weight'), ids);
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `model.layers.${i}.`;
    const x = ops.rmsNorm(null, h, p(`${l}input_layernorm.weight`), c.rms_norm_eps);
    const q = ops.rotary(null, ops.linear(null, x, p(`${l}self_attn.q_proj.weight`), null, 'out_in'), rope(H));
    const k = ops.rotary(null, ops.linear(null, x, p(`${l}self_attn.k_proj.weight`), null, 'out_in'), rope(HK));
    const v = ops.linear(null, x, p(`${l}self_attn.v_proj.weight`), null, 'out_in');
    const att = ops.causalAttention(null, q, k, v, { batch, seq, heads: H, kvHeads: HK, headDim: D });
    h = ops.add(null, h, ops.linear(null, att, p(`${l}self_attn.o_proj.weight`), null, 'out_in'));
    const m = ops.rmsNorm(null, h, p(`${l}post_attention_layernorm.weight`), c.rms_norm_eps);
    const gated = ops.mul(null, ops.silu(null, ops.linear(null, m, p(`${l}mlp.gate_proj.weight`), null, 'out_in')), ops.linear(null, m, p(`${l}mlp.up_proj.weight`), null, 'out_in'));
    h = ops.add(null, h, ops.linear(null, gated, p(`${l}mlp.down_proj.weight`), null, 'out_in'));
  }
  const final = ops.rmsNorm(null, h, p('model.norm.weight'), c.rms_norm_eps);
  const head = c.tie_word_embeddings || !params.has('lm_head.weight') ? p('model.embed_tokens.weight') : p('lm_head.weight');
  return ops.matmulNT(null, final, head);
}
