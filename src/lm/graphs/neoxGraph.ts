import { GraphBuilder } from '../onnx/graphBuilder';
import { OnnxType } from '../onnx/onnxModel';
import { applyRotary, attend, causalMask, layerNorm, rotaryTables, linearWeights } from './blocks';
import type { BuiltGraph, GraphOptions } from './graphTypes';

export interface NeoxGraphConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  rotary_pct: number;
  rotary_emb_base?: number;
  max_position_embeddings: number;
  layer_norm_eps: number;
  use_parallel_residual?: boolean;
  hidden_act?: string;
}

/**
 * GPT-NeoX / Pythia: fused query_key_value laid out per head as [q, k, v], rotary on the first rotary_pct
 * of each head in halves, parallel or sequential residual, exact (Erf) or tanh (FastGelu) gelu.
 * `swap_weight` is the chosen layer's dense_4h_to_h in the [d_ff, d_model] orientation.
 */
export async function buildNeoxGraph(c: NeoxGraphConfig, weights: (name: string) => Promise<Float32Array>, options: GraphOptions): Promise<BuiltGraph> {
  const g = new GraphBuilder(options.sink, options.precision);
  const d = c.hidden_size;
  const ff = c.intermediate_size;
  const H = c.num_attention_heads;
  const hd = d / H;
  const rotaryDim = Math.floor(hd * c.rotary_pct);
  const lin = linearWeights(g, weights);
  const vec = async (name: string, n: number) => g.weight(name, [n], await weights(name));
  const tanhGelu = c.hidden_act === 'gelu_new' || c.hidden_act === 'gelu_fast' || c.hidden_act === 'gelu_pytorch_tanh';
  const gelu = (x: string) =>
    tanhGelu
      ? g.op('FastGelu', [x], undefined, { domain: 'com.microsoft' })
      : g.op('Mul', [g.op('Mul', [x, g.constFloat([0.5], [])]), g.op('Add', [g.op('Erf', [g.op('Mul', [x, g.constFloat([Math.SQRT1_2], [])])]), g.constFloat([1], [])])]);
  const ids = g.input('input_ids', OnnxType.INT64, ['batch', 'sequence']);
  const positions = g.input('position_ids', OnnxType.INT64, ['batch', 'sequence']);
  const swap = g.input('swap_weight', OnnxType.FLOAT, [ff, d]);
  let h = g.gatherRows(g.weight('gpt_neox.embed_in.weight', [c.vocab_size, d], await weights('gpt_neox.embed_in.weight')), ids);
  const mask = causalMask(g, ids, c.max_position_embeddings);
  const rope = rotaryTables(g, positions, c.max_position_embeddings, rotaryDim, c.rotary_emb_base ?? 10000, '');
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `gpt_neox.layers.${i}.`;
    const x = layerNorm(g, h, await vec(`${l}input_layernorm.weight`, d), await vec(`${l}input_layernorm.bias`, d), c.layer_norm_eps);
    const qkv = g.op('Add', [g.op('MatMul', [x, await lin(`${l}attention.query_key_value.weight`, 3 * d, d)]), await vec(`${l}attention.query_key_value.bias`, 3 * d)]);
    // [b, s, 3d] -> [b, s, H, 3 hd] -> [b, H, s, 3 hd], then q, k, v are consecutive hd-wide slices.
    const heads = g.op('Transpose', [g.op('Reshape', [qkv, g.constInt64([0, 0, H, 3 * hd])])], { perm: [0, 2, 1, 3] });
    const [q0, k0, v] = g.opMulti('Split', [heads, g.constInt64([hd, hd, hd])], 3, { axis: -1 }) as [string, string, string];
    const q = applyRotary(g, q0, rope, hd, rotaryDim, false);
    const k = applyRotary(g, k0, rope, hd, rotaryDim, false);
    const att0 = attend(g, q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] }), v, mask, hd, H);
    const att = g.op('Add', [g.op('MatMul', [att0, await lin(`${l}attention.dense.weight`, d, d)]), await vec(`${l}attention.dense.bias`, d)]);
    const out = i === options.swapLayer ? swap : await lin(`${l}mlp.dense_4h_to_h.weight`, d, ff);
    const post = { w: await vec(`${l}post_attention_layernorm.weight`, d), b: await vec(`${l}post_attention_layernorm.bias`, d) };
    const fcIn = { w: await lin(`${l}mlp.dense_h_to_4h.weight`, ff, d), b: await vec(`${l}mlp.dense_h_to_4h.bias`, ff) };
    const outBias = await vec(`${l}mlp.dense_4h_to_h.bias`, d);
    const mlp = (y: string) => g.op('Add', [g.op('MatMul', [gelu(g.op('Add', [g.op('MatMul', [layerNorm(g, y, post.w, post.b, c.layer_norm_eps), fcIn.w]), fcIn.b])), out]), outBias]);
    if (c.use_parallel_residual ?? true) h = g.op('Add', [g.op('Add', [h, att]), mlp(h)]);
    else {
      h = g.op('Add', [h, att]);
      h = g.op('Add', [h, mlp(h)]);
    }
  }
  const final = layerNorm(g, h, await vec('gpt_neox.final_layer_norm.weight', d), await vec('gpt_neox.final_layer_norm.bias', d), c.layer_norm_eps);
  g.alias(g.op('MatMul', [final, await lin('embed_out.weight', c.vocab_size, d)]), 'logits');
  g.output('logits', OnnxType.FLOAT, ['batch', 'sequence', c.vocab_size]);
  const { model, weights: sink } = g.model('gpt_neox', [
    { domain: '', version: 17 },
    { domain: 'com.microsoft', version: 1 },
  ]);
  return { model, weights: sink, swapShape: [ff, d], castsWeights: g.castsWeights, maxPositions: c.max_position_embeddings };
}
