import { GraphBuilder } from '../onnx/graphBuilder';
import { OnnxType } from '../onnx/onnxModel';
import { attend, causalMask, layerNorm, linear, splitHeads, tiedLogits } from './blocks';
import type { BuiltGraph, GraphOptions } from './graphTypes';

export interface Gpt2GraphConfig {
  vocab_size: number;
  n_positions: number;
  n_embd: number;
  n_layer: number;
  n_head: number;
  n_inner?: number | null;
  layer_norm_epsilon: number;
}

/**
 * GPT-2 (pre-LN blocks, FastGelu MLP, tied unembedding) as an ONNX graph. Inputs: input_ids and
 * position_ids (int64 [batch, seq]) and `swap_weight`, the MLP output matrix of `options.swapLayer` in its
 * stored [d_ff, d_model] layout; output: logits [batch, seq, vocab]. Tensor names as Hugging Face stores
 * them, with or without the `transformer.` prefix (`options.prefix`).
 */
export async function buildGpt2Graph(c: Gpt2GraphConfig, weights: (name: string) => Promise<Float32Array>, options: GraphOptions): Promise<BuiltGraph> {
  const g = new GraphBuilder(options.sink, options.precision);
  const d = c.n_embd;
  const ff = c.n_inner ?? 4 * d;
  const hd = d / c.n_head;
  const pre = options.prefix ?? 'transformer.';
  const w = async (name: string, dims: number[]) => g.weight(`${pre}${name}`, dims, await weights(`${pre}${name}`));
  const ids = g.input('input_ids', OnnxType.INT64, ['batch', 'sequence']);
  const positions = g.input('position_ids', OnnxType.INT64, ['batch', 'sequence']);
  const swap = g.input('swap_weight', OnnxType.FLOAT, [ff, d]);
  const wte = await w('wte.weight', [c.vocab_size, d]);
  let h = g.op('Add', [g.gatherRows(wte, ids), g.gatherRows(await w('wpe.weight', [c.n_positions, d]), positions)]);
  const mask = causalMask(g, ids, c.n_positions);
  for (let i = 0; i < c.n_layer; i++) {
    const p = `h.${i}.`;
    const x = layerNorm(g, h, await w(`${p}ln_1.weight`, [d]), await w(`${p}ln_1.bias`, [d]), c.layer_norm_epsilon);
    const qkv = linear(g, x, await w(`${p}attn.c_attn.weight`, [d, 3 * d]), await w(`${p}attn.c_attn.bias`, [3 * d]));
    const [q, k, v] = g.opMulti('Split', [qkv, g.constInt64([d, d, d])], 3, { axis: 2 }) as [string, string, string];
    const att = attend(g, splitHeads(g, q, c.n_head, hd), splitHeads(g, k, c.n_head, hd, true), splitHeads(g, v, c.n_head, hd), mask, hd, c.n_head);
    h = g.op('Add', [h, linear(g, att, await w(`${p}attn.c_proj.weight`, [d, d]), await w(`${p}attn.c_proj.bias`, [d]))]);
    const m = layerNorm(g, h, await w(`${p}ln_2.weight`, [d]), await w(`${p}ln_2.bias`, [d]), c.layer_norm_epsilon);
    const act = g.op('FastGelu', [linear(g, m, await w(`${p}mlp.c_fc.weight`, [d, ff]), await w(`${p}mlp.c_fc.bias`, [ff]))], undefined, { domain: 'com.microsoft' });
    const out = i === options.swapLayer ? swap : await w(`${p}mlp.c_proj.weight`, [ff, d]);
    h = g.op('Add', [h, linear(g, act, out, await w(`${p}mlp.c_proj.bias`, [d]))]);
  }
  const final = layerNorm(g, h, await w('ln_f.weight', [d]), await w('ln_f.bias', [d]), c.layer_norm_epsilon);
  g.alias(tiedLogits(g, final, wte, ids, c.vocab_size, d), 'logits');
  g.output('logits', OnnxType.FLOAT, ['batch', 'sequence', c.vocab_size]);
  const { model, weights: sink } = g.model('gpt2', [
    { domain: '', version: 17 },
    { domain: 'com.microsoft', version: 1 },
  ]);
  return { model, weights: sink, swapShape: [ff, d], castsWeights: g.castsWeights, maxPositions: c.n_positions };
}
