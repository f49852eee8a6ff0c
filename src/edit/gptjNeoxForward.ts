import * as ops from './engine/ops';
import type { GptjGraphConfig } from '../lm/graphs/gptjGraph';
import type { NeoxGraphConfig } from '../lm/graphs/neoxGraph';
import { Tensor } from './engine/tensor';
import { gptjEditable } from './familyModels';

/** Reference forwards of GPT-J and GPT-NeoX checkpoints on the forge engine (Hugging Face names and layouts). */

export type GptjConfig = Omit<GptjGraphConfig, 'n_positions'>;

function getter(params: Map<string, Tensor>) {
  return (name: string) => {
    const t = params.get(name);
    if (!t) throw new Error(`missing parameter ${name}`);
    return t;
  };
}

/** GPT-J: parallel attention and MLP on one layer norm, rotary on the first rotary_dim of each head in adjacent pairs, gelu-tanh, biased lm_head (one implementation: the model ROME edits). */
export function gptjForward(c: GptjConfig, params: Map<string, Tensor>, ids: Int32Array, batch: number, seq: number): Tensor {
  return gptjEditable(c, params).forward(null, ids, batch, seq);
}

export type NeoxConfig = Omit<NeoxGraphConfig, 'max_position_embeddings'>;

/** Exact gelu, 0.5 x (1 + erf(x / sqrt 2)), with erf to float32 precision (Abramowitz-Stegun 7.1.26 is too coarse). */
function geluErf(x: Tensor): Tensor {
  const erf = (z: number): number => {
    // Series for small |z|, continued fraction tail otherwise; both converge to < 1e-12 here.
    const a = Math.abs(z);
    if (a < 2.5) {
      let term = a;
      let sum = a;
      for (let n = 1; n < 60; n++) {
        term *= (-a * a) / n;
        sum += term / (2 * n + 1);
      }
      return Math.sign(z) * (2 / Math.sqrt(Math.PI)) * sum;
    }
    let f = 0;
    for (let n = 60; n >= 1; n--) f = n / 2 / (a + f);
    return Math.sign(z) * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f));
  };
  return new Tensor(Float32Array.from(x.data, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2))), x.shape);
}

/**
 * GPT-NeoX: fused query_key_value whose output is laid out per head as [q, k, v], rotary on the first
 * rotary_pct of each head in halves, parallel (default) or sequential residual, exact or tanh gelu.
 */
export function neoxForward(c: NeoxConfig, params: Map<string, Tensor>, ids: Int32Array, batch: number, seq: number): Tensor {
  const p = getter(params);
  const d = c.hidden_size;
  const H = c.num_attention_heads;
  const D = d / H;
  const rope = { seq, heads: H, headDim: D, rotaryDim: Math.floor(D * c.rotary_pct), base: c.rotary_emb_base ?? 10000, interleaved: false };
  const act = (x: Tensor) => (c.hidden_act === 'gelu_new' || c.hidden_act === 'gelu_fast' || c.hidden_act === 'gelu_pytorch_tanh' ? ops.geluTanh(null, x) : geluErf(x));
  let h = ops.embedding(null, p('gpt_neox.embed_in.weight'), ids);
  const n = batch * seq;
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `gpt_neox.layers.${i}.`;
    const x = ops.layerNorm(null, h, p(`${l}input_layernorm.weight`), p(`${l}input_layernorm.bias`), c.layer_norm_eps);
    const qkv = ops.linear(null, x, p(`${l}attention.query_key_value.weight`), p(`${l}attention.query_key_value.bias`), 'out_in');
    // Per head h: columns [h*3D, h*3D + D) are q, the next D k, the next D v.
    const part = (which: number) => {
      const out = new Float32Array(n * d);
      for (let r = 0; r < n; r++) for (let hh = 0; hh < H; hh++) for (let j = 0; j < D; j++) out[r * d + hh * D + j] = qkv.data[r * 3 * d + hh * 3 * D + which * D + j] as number;
      return new Tensor(out, [n, d]);
    };
    const att0 = ops.causalAttention(null, ops.rotary(null, part(0), rope), ops.rotary(null, part(1), rope), part(2), { batch, seq, heads: H, kvHeads: H, headDim: D });
    const att = ops.linear(null, att0, p(`${l}attention.dense.weight`), p(`${l}attention.dense.bias`), 'out_in');
    const mlp = (y: Tensor) => ops.linear(null, act(ops.linear(null, y, p(`${l}mlp.dense_h_to_4h.weight`), p(`${l}mlp.dense_h_to_4h.bias`), 'out_in')), p(`${l}mlp.dense_4h_to_h.weight`), p(`${l}mlp.dense_4h_to_h.bias`), 'out_in');
    const post = (y: Tensor) => ops.layerNorm(null, y, p(`${l}post_attention_layernorm.weight`), p(`${l}post_attention_layernorm.bias`), c.layer_norm_eps);
    if (c.use_parallel_residual ?? true) h = ops.add(null, ops.add(null, h, att), mlp(post(h)));
    else {
      h = ops.add(null, h, att);
      h = ops.add(null, h, mlp(post(h)));
    }
  }
  const final = ops.layerNorm(null, h, p('gpt_neox.final_layer_norm.weight'), p('gpt_neox.final_layer_norm.bias'), c.layer_norm_eps);
  return ops.matmulNT(null, final, p('embed_out.weight'));
}
