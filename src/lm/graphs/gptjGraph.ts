import { GraphBuilder } from '../onnx/graphBuilder';
import { OnnxType } from '../onnx/onnxModel';
import { applyRotary, attend, causalMask, layerNorm, rotaryTables, splitHeads, linearWeights } from './blocks';
import type { Gpt2GraphConfig } from './gpt2Graph';
import type { BuiltGraph, GraphOptions } from './graphTypes';

/** GPT-2's fields (GPT-J's config.json uses the same names) plus the rotary width. */
export interface GptjGraphConfig extends Gpt2GraphConfig {
  rotary_dim: number;
}

/**
 * GPT-J: one layer norm feeding attention and MLP in parallel, rotary on the first rotary_dim of each head
 * in adjacent pairs, FastGelu, biased lm_head. `swap_weight` is the chosen layer's fc_out in the
 * [d_ff, d_model] orientation (the stored nn.Linear matrix transposed).
 */
export async function buildGptjGraph(c: GptjGraphConfig, weights: (name: string) => Promise<Float32Array>, options: GraphOptions): Promise<BuiltGraph> {
  const g = new GraphBuilder(options.sink, options.precision);
  const d = c.n_embd;
  const ff = c.n_inner ?? 4 * d;
  const H = c.n_head;
  const hd = d / H;
  const lin = linearWeights(g, weights);
  const vec = async (name: string, n: number) => g.weight(name, [n], await weights(name));
  const ids = g.input('input_ids', OnnxType.INT64, ['batch', 'sequence']);
  const positions = g.input('position_ids', OnnxType.INT64, ['batch', 'sequence']);
  const swap = g.input('swap_weight', OnnxType.FLOAT, [ff, d]);
  let h = g.gatherRows(g.weight('transformer.wte.weight', [c.vocab_size, d], await weights('transformer.wte.weight')), ids);
  const mask = causalMask(g, ids, c.n_positions);
  const rope = rotaryTables(g, positions, c.n_positions, c.rotary_dim, 10000, '');
  for (let i = 0; i < c.n_layer; i++) {
    const l = `transformer.h.${i}.`;
    const x = layerNorm(g, h, await vec(`${l}ln_1.weight`, d), await vec(`${l}ln_1.bias`, d), c.layer_norm_epsilon);
    const q = applyRotary(g, splitHeads(g, g.op('MatMul', [x, await lin(`${l}attn.q_proj.weight`, d, d)]), H, hd), rope, hd, c.rotary_dim, true);
    const k = applyRotary(g, splitHeads(g, g.op('MatMul', [x, await lin(`${l}attn.k_proj.weight`, d, d)]), H, hd), rope, hd, c.rotary_dim, true);
    const v = splitHeads(g, g.op('MatMul', [x, await lin(`${l}attn.v_proj.weight`, d, d)]), H, hd);
    const att = g.op('MatMul', [attend(g, q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] }), v, mask, hd, H), await lin(`${l}attn.out_proj.weight`, d, d)]);
    const inner = g.op('Add', [g.op('MatMul', [x, await lin(`${l}mlp.fc_in.weight`, ff, d)]), await vec(`${l}mlp.fc_in.bias`, ff)]);
    const act = g.op('FastGelu', [inner], undefined, { domain: 'com.microsoft' });
    const out = i === options.swapLayer ? swap : await lin(`${l}mlp.fc_out.weight`, d, ff);
    const mlp = g.op('Add', [g.op('MatMul', [act, out]), await vec(`${l}mlp.fc_out.bias`, d)]);
    h = g.op('Add', [g.op('Add', [h, att]), mlp]);
  }
  const final = layerNorm(g, h, await vec('transformer.ln_f.weight', d), await vec('transformer.ln_f.bias', d), c.layer_norm_epsilon);
  g.alias(g.op('Add', [g.op('MatMul', [final, await lin('lm_head.weight', c.vocab_size, d)]), await vec('lm_head.bias', c.vocab_size)]), 'logits');
  g.output('logits', OnnxType.FLOAT, ['batch', 'sequence', c.vocab_size]);
  const { model, weights: sink } = g.model('gptj', [
    { domain: '', version: 17 },
    { domain: 'com.microsoft', version: 1 },
  ]);
  return { model, weights: sink, swapShape: [ff, d], castsWeights: g.castsWeights, maxPositions: c.n_positions };
}
