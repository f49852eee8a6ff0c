import { GraphBuilder } from '../onnx/graphBuilder';
import { OnnxType } from '../onnx/onnxModel';
import { applyRotary, attend, causalMask, repeatKv, rmsNorm, rotaryTables, splitHeads, linearWeights, tiedLogits } from './blocks';
import type { BuiltGraph, GraphOptions } from './graphTypes';

export interface LlamaGraphConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads?: number;
  rms_norm_eps: number;
  rope_theta?: number;
  max_position_embeddings: number;
  tie_word_embeddings?: boolean;
}

/**
 * Llama / Mistral / Qwen2-style graph (RMSNorm, rotary in halves, grouped-query attention, SwiGLU).
 * nn.Linear weights [out, in] are written transposed so each projection is one MatMul. `swap_weight` is
 * the chosen layer's down_proj in the [d_ff, d_model] orientation (rows indexed by d_ff, as the analysis
 * reads every family), i.e. the stored matrix transposed.
 */
export async function buildLlamaGraph(c: LlamaGraphConfig, weights: (name: string) => Promise<Float32Array>, options: GraphOptions): Promise<BuiltGraph> {
  const g = new GraphBuilder(options.sink, options.precision);
  const d = c.hidden_size;
  const ff = c.intermediate_size;
  const H = c.num_attention_heads;
  const HK = c.num_key_value_heads ?? H;
  const hd = d / H;
  const linearWeight = linearWeights(g, weights);
  const ids = g.input('input_ids', OnnxType.INT64, ['batch', 'sequence']);
  const positions = g.input('position_ids', OnnxType.INT64, ['batch', 'sequence']);
  const swap = g.input('swap_weight', OnnxType.FLOAT, [ff, d]);
  const embed = g.weight('model.embed_tokens.weight', [c.vocab_size, d], await weights('model.embed_tokens.weight'));
  let h = g.gatherRows(embed, ids);
  const mask = causalMask(g, ids, c.max_position_embeddings);
  const rope = rotaryTables(g, positions, c.max_position_embeddings, hd, c.rope_theta ?? 10000, '');
  for (let i = 0; i < c.num_hidden_layers; i++) {
    const l = `model.layers.${i}.`;
    const x = rmsNorm(g, h, g.weight(`${l}input_layernorm.weight`, [d], await weights(`${l}input_layernorm.weight`)), c.rms_norm_eps);
    const q = applyRotary(g, splitHeads(g, g.op('MatMul', [x, await linearWeight(`${l}self_attn.q_proj.weight`, H * hd, d)]), H, hd), rope, hd, hd, false);
    const k = applyRotary(g, splitHeads(g, g.op('MatMul', [x, await linearWeight(`${l}self_attn.k_proj.weight`, HK * hd, d)]), HK, hd), rope, hd, hd, false);
    const v = splitHeads(g, g.op('MatMul', [x, await linearWeight(`${l}self_attn.v_proj.weight`, HK * hd, d)]), HK, hd);
    const kT = g.op('Transpose', [repeatKv(g, k, H, HK, hd)], { perm: [0, 1, 3, 2] });
    const att = attend(g, q, kT, repeatKv(g, v, H, HK, hd), mask, hd, H);
    h = g.op('Add', [h, g.op('MatMul', [att, await linearWeight(`${l}self_attn.o_proj.weight`, d, H * hd)])]);
    const m = rmsNorm(g, h, g.weight(`${l}post_attention_layernorm.weight`, [d], await weights(`${l}post_attention_layernorm.weight`)), c.rms_norm_eps);
    const gate = g.op('MatMul', [m, await linearWeight(`${l}mlp.gate_proj.weight`, ff, d)]);
    const up = g.op('MatMul', [m, await linearWeight(`${l}mlp.up_proj.weight`, ff, d)]);
    const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up]);
    const down = i === options.swapLayer ? swap : await linearWeight(`${l}mlp.down_proj.weight`, d, ff);
    h = g.op('Add', [h, g.op('MatMul', [act, down])]);
  }
  const final = rmsNorm(g, h, g.weight('model.norm.weight', [d], await weights('model.norm.weight')), c.rms_norm_eps);
  const logits = c.tie_word_embeddings ? tiedLogits(g, final, embed, ids, c.vocab_size, d) : g.op('MatMul', [final, await linearWeight('lm_head.weight', c.vocab_size, d)]);
  g.alias(logits, 'logits');
  g.output('logits', OnnxType.FLOAT, ['batch', 'sequence', c.vocab_size]);
  const { model, weights: sink } = g.model('llama', [{ domain: '', version: 17 }]);
  return { model, weights: sink, swapShape: [ff, d], castsWeights: g.castsWeights, maxPositions: c.max_position_embeddings };
}
