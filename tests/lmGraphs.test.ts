import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../src/core/random';
import { type Gpt2Config, gpt2Forward, gpt2ParamShapes, type Gpt2Params, mlpOutputName } from '../src/edit/gpt2Model';
import { Tensor } from '../src/edit/engine/tensor';
import { buildGpt2Graph } from '../src/lm/graphs/gpt2Graph';
import { buildLlamaGraph, type LlamaGraphConfig } from '../src/lm/graphs/llamaGraph';
import { llamaForward } from '../src/edit/llamaForward';
import { gptjForward, neoxForward } from '../src/edit/gptjNeoxForward';
import { buildGptjGraph, type GptjGraphConfig } from '../src/lm/graphs/gptjGraph';
import { buildNeoxGraph, type NeoxGraphConfig } from '../src/lm/graphs/neoxGraph';
import { encodeModel } from '../src/lm/onnx/onnxModel';
import type { BuiltGraph } from '../src/lm/graphs/graphTypes';
import { MemoryWeightSink } from '../src/lm/onnx/weightSink';

ort.env.wasm.numThreads = 1;

const memoryFiles = (built: BuiltGraph) => (built.weights as MemoryWeightSink).files();

/** A GPT-2 with every parameter random (biases and layer-norm gains too), so no term hides behind a zero. */
function randomGpt2(c: Gpt2Config, seed: number): Gpt2Params {
  const rng = new SeededRandom(seed);
  const params: Gpt2Params = new Map();
  for (const [name, shape] of gpt2ParamShapes(c)) {
    const data = rng.gaussianArray(shape.reduce((a, b) => a * b, 1)).map((x) => (name.includes('ln_') && name.endsWith('weight') ? 1 + 0.2 * x : 0.2 * x));
    params.set(name, new Tensor(data, shape, false));
  }
  return params;
}

async function session(c: Gpt2Config, params: Gpt2Params, swapLayer: number) {
  const built = await buildGpt2Graph(c, async (n) => params.get(n)!.data, { swapLayer });
  const s = await ort.InferenceSession.create(encodeModel(built.model), { executionProviders: ['wasm'], externalData: memoryFiles(built) });
  const run = async (ids: Int32Array, batch: number, seq: number, swap: Float32Array) => {
    const out = await s.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [batch, seq]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: batch * seq }, (_, i) => BigInt(i % seq)), [batch, seq]),
      swap_weight: new ort.Tensor('float32', swap, built.swapShape),
    });
    return out['logits']!.data as Float32Array;
  };
  return { run, built };
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

describe('GPT-2 ONNX graph (onnxruntime-web, wasm) against the forge engine', () => {
  const shapes: [string, Gpt2Config, number, number, number][] = [
    ['d 24, 3 heads, 2 layers, odd vocab', { vocab_size: 37, n_positions: 16, n_embd: 24, n_layer: 2, n_head: 3, n_inner: 40, layer_norm_epsilon: 1e-5 }, 1, 3, 7],
    ['d 16, 2 heads, 3 layers, one token', { vocab_size: 50, n_positions: 8, n_embd: 16, n_layer: 3, n_head: 2, n_inner: 64, layer_norm_epsilon: 1e-5 }, 2, 2, 1],
    ['d 32, 4 heads, full context', { vocab_size: 61, n_positions: 12, n_embd: 32, n_layer: 2, n_head: 4, n_inner: 96, layer_norm_epsilon: 1e-5 }, 0, 1, 12],
  ];
  for (const [label, c, swapLayer, batch, seq] of shapes) {
    it(`logits within 1e-4 (${label})`, async () => {
      const params = randomGpt2(c, 5);
      const { run } = await session(c, params, swapLayer);
      const rng = new SeededRandom(9);
      const ids = Int32Array.from({ length: batch * seq }, () => rng.nextInt(c.vocab_size));
      const got = await run(ids, batch, seq, params.get(mlpOutputName(swapLayer))!.data);
      expect(maxAbsDiff(got, gpt2Forward(null, c, params, ids, batch, seq).data)).toBeLessThan(1e-4);
    });
  }

  it("swapping W -> W' -> W changes the logits (to the engine's with W') and brings them back exactly", async () => {
    const c: Gpt2Config = { vocab_size: 41, n_positions: 16, n_embd: 24, n_layer: 2, n_head: 2, n_inner: 48, layer_norm_epsilon: 1e-5 };
    const params = randomGpt2(c, 8);
    const { run } = await session(c, params, 1);
    const ids = Int32Array.from([3, 14, 15, 9, 26, 5, 35, 8]);
    const w = params.get(mlpOutputName(1))!;
    const rng = new SeededRandom(2);
    const u = rng.gaussianArray(48);
    const lambda = rng.gaussianArray(24);
    const edited = Float32Array.from(w.data, (x, i) => x + (u[Math.floor(i / 24)] as number) * (lambda[i % 24] as number));
    const before = await run(ids, 1, 8, w.data);
    const after = await run(ids, 1, 8, edited);
    const again = await run(ids, 1, 8, w.data);
    expect(maxAbsDiff(before, after)).toBeGreaterThan(0.1);
    const engineEdited = gpt2Forward(null, c, params, ids, 1, 8, { mlpWeight: { layer: 1, weight: new Tensor(edited, w.shape) } }).data;
    expect(maxAbsDiff(after, engineEdited)).toBeLessThan(1e-4);
    expect(Buffer.from(again.buffer).equals(Buffer.from(before.buffer))).toBe(true);
  });
});

function randomParams(shapes: [string, number[]][], seed: number, gainNames: RegExp): Map<string, Tensor> {
  const rng = new SeededRandom(seed);
  return new Map(shapes.map(([name, shape]) => [name, new Tensor(rng.gaussianArray(shape.reduce((a, b) => a * b, 1)).map((x) => (gainNames.test(name) ? 1 + 0.2 * x : 0.25 * x)), shape, false)]));
}

const int64 = (ids: Int32Array, batch: number, seq: number) => new ort.Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [batch, seq]);
const positionIds = (batch: number, seq: number) => new ort.Tensor('int64', BigInt64Array.from({ length: batch * seq }, (_, i) => BigInt(i % seq)), [batch, seq]);
const transpose = (t: Tensor) => {
  const [r, c] = t.shape as [number, number];
  return Float32Array.from({ length: r * c }, (_, i) => t.data[(i % r) * c + Math.floor(i / r)]!);
};

describe('Llama ONNX graph against the engine reference (RMSNorm, rotary, grouped-query attention, SwiGLU)', () => {
  const cases: [string, LlamaGraphConfig, number, number, number][] = [
    ['GQA 4 heads / 2 kv, untied head', { vocab_size: 37, hidden_size: 24, intermediate_size: 40, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000, max_position_embeddings: 16, tie_word_embeddings: false }, 1, 2, 7],
    ['MHA 2 heads, tied, theta 500000', { vocab_size: 29, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 3, num_attention_heads: 2, rms_norm_eps: 1e-6, rope_theta: 500000, max_position_embeddings: 12, tie_word_embeddings: true }, 0, 1, 12],
  ];
  for (const [label, c, swapLayer, batch, seq] of cases) {
    it(`logits within 1e-4 (${label})`, async () => {
      const d = c.hidden_size;
      const hd = d / c.num_attention_heads;
      const kv = (c.num_key_value_heads ?? c.num_attention_heads) * hd;
      const shapes: [string, number[]][] = [['model.embed_tokens.weight', [c.vocab_size, d]], ['model.norm.weight', [d]]];
      if (!c.tie_word_embeddings) shapes.push(['lm_head.weight', [c.vocab_size, d]]);
      for (let i = 0; i < c.num_hidden_layers; i++) {
        const l = `model.layers.${i}.`;
        shapes.push([`${l}input_layernorm.weight`, [d]], [`${l}post_attention_layernorm.weight`, [d]], [`${l}self_attn.q_proj.weight`, [d, d]], [`${l}self_attn.k_proj.weight`, [kv, d]], [`${l}self_attn.v_proj.weight`, [kv, d]], [`${l}self_attn.o_proj.weight`, [d, d]]);
        shapes.push([`${l}mlp.gate_proj.weight`, [c.intermediate_size, d]], [`${l}mlp.up_proj.weight`, [c.intermediate_size, d]], [`${l}mlp.down_proj.weight`, [d, c.intermediate_size]]);
      }
      const params = randomParams(shapes, 3, /layernorm|norm\.weight/);
      const built = await buildLlamaGraph(c, async (n) => params.get(n)!.data, { swapLayer });
      const s = await ort.InferenceSession.create(encodeModel(built.model), { executionProviders: ['wasm'], externalData: memoryFiles(built) });
      const rng = new SeededRandom(4);
      const ids = Int32Array.from({ length: batch * seq }, () => rng.nextInt(c.vocab_size));
      const swap = transpose(params.get(`model.layers.${swapLayer}.mlp.down_proj.weight`)!);
      const out = await s.run({ input_ids: int64(ids, batch, seq), position_ids: positionIds(batch, seq), swap_weight: new ort.Tensor('float32', swap, built.swapShape) });
      const ref = llamaForward(c, params, ids, batch, seq).data;
      expect(maxAbsDiff(out['logits']!.data as Float32Array, ref)).toBeLessThan(1e-4);
    });
  }
});

async function runGraph(built: Awaited<ReturnType<typeof buildGptjGraph>>, ids: Int32Array, batch: number, seq: number, swap: Float32Array) {
  const s = await ort.InferenceSession.create(encodeModel(built.model), { executionProviders: ['wasm'], externalData: memoryFiles(built) });
  const out = await s.run({ input_ids: int64(ids, batch, seq), position_ids: positionIds(batch, seq), swap_weight: new ort.Tensor('float32', swap, built.swapShape) });
  return out['logits']!.data as Float32Array;
}

describe('GPT-J ONNX graph against the engine reference (parallel block, partial interleaved rotary)', () => {
  const cases: [string, GptjGraphConfig, number, number, number][] = [
    ['rotary 4 of 8 per head', { vocab_size: 31, n_positions: 16, n_embd: 16, n_layer: 2, n_head: 2, n_inner: 40, rotary_dim: 4, layer_norm_epsilon: 1e-5 }, 1, 2, 6],
    ['rotary on the whole head, 3 heads', { vocab_size: 23, n_positions: 10, n_embd: 18, n_layer: 2, n_head: 3, n_inner: null, rotary_dim: 6, layer_norm_epsilon: 1e-5 }, 0, 1, 9],
  ];
  for (const [label, c, swapLayer, batch, seq] of cases) {
    it(`logits within 1e-4 (${label})`, async () => {
      const d = c.n_embd;
      const ff = c.n_inner ?? 4 * d;
      const shapes: [string, number[]][] = [['transformer.wte.weight', [c.vocab_size, d]], ['transformer.ln_f.weight', [d]], ['transformer.ln_f.bias', [d]], ['lm_head.weight', [c.vocab_size, d]], ['lm_head.bias', [c.vocab_size]]];
      for (let i = 0; i < c.n_layer; i++) {
        const l = `transformer.h.${i}.`;
        shapes.push([`${l}ln_1.weight`, [d]], [`${l}ln_1.bias`, [d]], [`${l}attn.q_proj.weight`, [d, d]], [`${l}attn.k_proj.weight`, [d, d]], [`${l}attn.v_proj.weight`, [d, d]], [`${l}attn.out_proj.weight`, [d, d]]);
        shapes.push([`${l}mlp.fc_in.weight`, [ff, d]], [`${l}mlp.fc_in.bias`, [ff]], [`${l}mlp.fc_out.weight`, [d, ff]], [`${l}mlp.fc_out.bias`, [d]]);
      }
      const params = randomParams(shapes, 6, /ln_.*weight/);
      const built = await buildGptjGraph(c, async (n) => params.get(n)!.data, { swapLayer });
      const rng = new SeededRandom(7);
      const ids = Int32Array.from({ length: batch * seq }, () => rng.nextInt(c.vocab_size));
      const got = await runGraph(built, ids, batch, seq, transpose(params.get(`transformer.h.${swapLayer}.mlp.fc_out.weight`)!));
      expect(maxAbsDiff(got, gptjForward(c, params, ids, batch, seq).data)).toBeLessThan(1e-4);
    });
  }
});

describe('GPT-NeoX ONNX graph against the engine reference (per-head fused qkv, partial rotary in halves)', () => {
  const cases: [string, NeoxGraphConfig, number, number, number][] = [
    ['parallel residual, exact gelu, rotary 25%', { vocab_size: 33, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 2, rotary_pct: 0.25, max_position_embeddings: 16, layer_norm_eps: 1e-5, use_parallel_residual: true, hidden_act: 'gelu' }, 1, 2, 5],
    ['sequential residual, tanh gelu, full rotary', { vocab_size: 27, hidden_size: 24, intermediate_size: 40, num_hidden_layers: 2, num_attention_heads: 3, rotary_pct: 1, rotary_emb_base: 1000, max_position_embeddings: 12, layer_norm_eps: 1e-5, use_parallel_residual: false, hidden_act: 'gelu_new' }, 0, 1, 8],
  ];
  for (const [label, c, swapLayer, batch, seq] of cases) {
    it(`logits within 1e-4 (${label})`, async () => {
      const d = c.hidden_size;
      const ff = c.intermediate_size;
      const shapes: [string, number[]][] = [['gpt_neox.embed_in.weight', [c.vocab_size, d]], ['gpt_neox.final_layer_norm.weight', [d]], ['gpt_neox.final_layer_norm.bias', [d]], ['embed_out.weight', [c.vocab_size, d]]];
      for (let i = 0; i < c.num_hidden_layers; i++) {
        const l = `gpt_neox.layers.${i}.`;
        shapes.push([`${l}input_layernorm.weight`, [d]], [`${l}input_layernorm.bias`, [d]], [`${l}post_attention_layernorm.weight`, [d]], [`${l}post_attention_layernorm.bias`, [d]]);
        shapes.push([`${l}attention.query_key_value.weight`, [3 * d, d]], [`${l}attention.query_key_value.bias`, [3 * d]], [`${l}attention.dense.weight`, [d, d]], [`${l}attention.dense.bias`, [d]]);
        shapes.push([`${l}mlp.dense_h_to_4h.weight`, [ff, d]], [`${l}mlp.dense_h_to_4h.bias`, [ff]], [`${l}mlp.dense_4h_to_h.weight`, [d, ff]], [`${l}mlp.dense_4h_to_h.bias`, [d]]);
      }
      const params = randomParams(shapes, 8, /layernorm\.weight|layer_norm\.weight/);
      const built = await buildNeoxGraph(c, async (n) => params.get(n)!.data, { swapLayer });
      const rng = new SeededRandom(9);
      const ids = Int32Array.from({ length: batch * seq }, () => rng.nextInt(c.vocab_size));
      const got = await runGraph(built, ids, batch, seq, transpose(params.get(`gpt_neox.layers.${swapLayer}.mlp.dense_4h_to_h.weight`)!));
      expect(maxAbsDiff(got, neoxForward(c, params, ids, batch, seq).data)).toBeLessThan(1e-4);
    });
  }
});
