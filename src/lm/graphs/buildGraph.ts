import type { Checkpoint } from '../../formats/checkpoint';
import { FormatError } from '../../formats/formatError';
import { readTensorRows } from '../../formats/tensorReader';
import { buildGpt2Graph, type Gpt2GraphConfig } from './gpt2Graph';
import { buildGptjGraph, type GptjGraphConfig } from './gptjGraph';
import type { BuiltGraph } from './graphTypes';
import { buildLlamaGraph, type LlamaGraphConfig } from './llamaGraph';
import { buildNeoxGraph, type NeoxGraphConfig } from './neoxGraph';
import type { WeightSink } from '../onnx/weightSink';
import type { WeightPrecision } from '../onnx/graphBuilder';

/** Families with a graph builder (the detection registry's ids). */
export const GRAPH_FAMILIES = ['gpt2', 'gptj', 'llama', 'gpt_neox'] as const;

/** Reads one tensor as float32 in its stored layout, with the checkpoint's name in any error. */
async function readFloat32(checkpoint: Checkpoint, name: string): Promise<Float32Array> {
  const info = checkpoint.tensors.get(name);
  if (!info) throw new FormatError(checkpoint.label, `has no tensor "${name}", which the graph needs`);
  const shape = info.shape.length === 1 ? [1, info.shape[0] as number] : info.shape;
  if (shape.length !== 2) throw new FormatError(info.source.name, `expected a 1-D or 2-D tensor, found shape [${info.shape.join(', ')}]`, name);
  return (await readTensorRows({ ...info, shape }, 0)).data;
}

/** Numeric config fields, checked: a missing or non-positive value names config.json and the field. */
function field(raw: Readonly<Record<string, unknown>>, name: string, fallback?: number): number {
  const v = raw[name] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new FormatError('config.json', `needs a number "${name}" to run the ${String(raw['model_type'] ?? 'model')} model`);
  return v;
}

/** A size field: a positive whole number. */
function size(raw: Readonly<Record<string, unknown>>, name: string, fallback?: number): number {
  const v = field(raw, name, fallback);
  if (!Number.isSafeInteger(v) || v < 1) throw new FormatError('config.json', `"${name}" is ${v}, not a positive whole number`);
  return v;
}

function divides(part: [string, number], whole: [string, number]): void {
  if (whole[1] % part[1] !== 0) throw new FormatError('config.json', `"${part[0]}" (${part[1]}) does not divide "${whole[0]}" (${whole[1]})`);
}

/**
 * The tensors the config's sizes imply, checked against the stored shapes before anything is built: a
 * config.json of another model names itself instead of failing deep inside the runtime.
 */
function expectShapes(checkpoint: Checkpoint, expected: readonly [tensor: string, shape: readonly number[], fields: string][]): void {
  for (const [name, shape, fields] of expected) {
    const info = checkpoint.tensors.get(name);
    if (!info) throw new FormatError(checkpoint.label, `has no tensor "${name}", which the graph needs`);
    if (info.shape.join(',') !== shape.join(',')) {
      throw new FormatError('config.json', `says ${fields}, so "${name}" should be [${shape.join(', ')}], but the weights hold [${info.shape.join(', ')}]: config.json and the weights do not belong together`);
    }
  }
}

/** A checkpoint's architecture as its graph builder reads it from config.json, checked against the stored shapes. */
export type FamilyConfig =
  | { family: 'gpt2'; config: Gpt2GraphConfig; prefix: string }
  | { family: 'gptj'; config: GptjGraphConfig }
  | { family: 'llama'; config: LlamaGraphConfig }
  | { family: 'gpt_neox'; config: NeoxGraphConfig };

/** Builds the ONNX graph of a checkpoint of a known family, its MLP output matrix of `swapLayer` a graph input. */
export async function buildGraph(family: string, checkpoint: Checkpoint, swapLayer: number, sink?: WeightSink, precision?: WeightPrecision): Promise<BuiltGraph> {
  const fc = familyConfig(family, checkpoint);
  const weights = (name: string) => readFloat32(checkpoint, name);
  const vocabSize = fc.config.vocab_size;
  switch (fc.family) {
    case 'gpt2':
      return { ...(await buildGpt2Graph(fc.config, weights, { swapLayer, prefix: fc.prefix, sink, precision })), vocabSize };
    case 'gptj':
      return { ...(await buildGptjGraph(fc.config, weights, { swapLayer, sink, precision })), vocabSize };
    case 'llama':
      return { ...(await buildLlamaGraph(fc.config, weights, { swapLayer, sink, precision })), vocabSize };
    case 'gpt_neox':
      return { ...(await buildNeoxGraph(fc.config, weights, { swapLayer, sink, precision })), vocabSize };
  }
}

/** The config of a checkpoint of a known family (every field checked; a mismatch with the weights names config.json). */
export function familyConfig(family: string, checkpoint: Checkpoint): FamilyConfig {
  const raw = checkpoint.config?.raw;
  if (!raw) throw new FormatError(checkpoint.label, 'running the model needs its config.json next to the weights');
  switch (family) {
    case 'gpt2': {
      const c: Gpt2GraphConfig = {
        vocab_size: size(raw, 'vocab_size'),
        n_positions: size(raw, 'n_positions', raw['n_ctx'] as number | undefined),
        n_embd: size(raw, 'n_embd'),
        n_layer: size(raw, 'n_layer'),
        n_head: size(raw, 'n_head'),
        n_inner: raw['n_inner'] === undefined || raw['n_inner'] === null ? null : size(raw, 'n_inner'),
        layer_norm_epsilon: field(raw, 'layer_norm_epsilon', 1e-5),
      };
      const prefix = checkpoint.tensors.has('transformer.wte.weight') ? 'transformer.' : '';
      const [d, ff] = [c.n_embd, c.n_inner ?? 4 * c.n_embd];
      divides(['n_head', c.n_head], ['n_embd', d]);
      expectShapes(checkpoint, [
        [`${prefix}wte.weight`, [c.vocab_size, d], `vocab_size ${c.vocab_size} and n_embd ${d}`],
        [`${prefix}wpe.weight`, [c.n_positions, d], `n_positions ${c.n_positions} and n_embd ${d}`],
        [`${prefix}h.0.attn.c_attn.weight`, [d, 3 * d], `n_embd ${d}`],
        [`${prefix}h.0.mlp.c_fc.weight`, [d, ff], `n_embd ${d} and n_inner ${ff}`],
      ]);
      return { family, config: c, prefix };
    }
    case 'gptj': {
      const c: GptjGraphConfig = {
        vocab_size: size(raw, 'vocab_size'),
        n_positions: size(raw, 'n_positions'),
        n_embd: size(raw, 'n_embd'),
        n_layer: size(raw, 'n_layer'),
        n_head: size(raw, 'n_head'),
        n_inner: raw['n_inner'] === undefined || raw['n_inner'] === null ? null : size(raw, 'n_inner'),
        rotary_dim: size(raw, 'rotary_dim'),
        layer_norm_epsilon: field(raw, 'layer_norm_epsilon', 1e-5),
      };
      const [d, ff] = [c.n_embd, c.n_inner ?? 4 * c.n_embd];
      divides(['n_head', c.n_head], ['n_embd', d]);
      if (c.rotary_dim > d / c.n_head || c.rotary_dim % 2) throw new FormatError('config.json', `"rotary_dim" (${c.rotary_dim}) must be even and at most the head size ${d / c.n_head}`);
      expectShapes(checkpoint, [
        ['transformer.wte.weight', [c.vocab_size, d], `vocab_size ${c.vocab_size} and n_embd ${d}`],
        ['transformer.h.0.mlp.fc_in.weight', [ff, d], `n_embd ${d} and n_inner ${ff}`],
      ]);
      return { family, config: c };
    }
    case 'llama': {
      const c: LlamaGraphConfig = {
        vocab_size: size(raw, 'vocab_size'),
        hidden_size: size(raw, 'hidden_size'),
        intermediate_size: size(raw, 'intermediate_size'),
        num_hidden_layers: size(raw, 'num_hidden_layers'),
        num_attention_heads: size(raw, 'num_attention_heads'),
        num_key_value_heads: size(raw, 'num_key_value_heads', raw['num_attention_heads'] as number | undefined),
        rms_norm_eps: field(raw, 'rms_norm_eps', 1e-6),
        rope_theta: field(raw, 'rope_theta', 10000),
        max_position_embeddings: size(raw, 'max_position_embeddings'),
        tie_word_embeddings: raw['tie_word_embeddings'] === true || !checkpoint.tensors.has('lm_head.weight'),
      };
      divides(['num_attention_heads', c.num_attention_heads], ['hidden_size', c.hidden_size]);
      const kvHeads = c.num_key_value_heads ?? c.num_attention_heads;
      divides(['num_key_value_heads', kvHeads], ['num_attention_heads', c.num_attention_heads]);
      const kv = (c.hidden_size / c.num_attention_heads) * kvHeads;
      expectShapes(checkpoint, [
        ['model.embed_tokens.weight', [c.vocab_size, c.hidden_size], `vocab_size ${c.vocab_size} and hidden_size ${c.hidden_size}`],
        ['model.layers.0.mlp.gate_proj.weight', [c.intermediate_size, c.hidden_size], `hidden_size ${c.hidden_size} and intermediate_size ${c.intermediate_size}`],
        ['model.layers.0.self_attn.k_proj.weight', [kv, c.hidden_size], `hidden_size ${c.hidden_size}, num_attention_heads ${c.num_attention_heads} and num_key_value_heads ${kvHeads}`],
      ]);
      return { family, config: c };
    }
    case 'gpt_neox': {
      const c: NeoxGraphConfig = {
        vocab_size: size(raw, 'vocab_size'),
        hidden_size: size(raw, 'hidden_size'),
        intermediate_size: size(raw, 'intermediate_size'),
        num_hidden_layers: size(raw, 'num_hidden_layers'),
        num_attention_heads: size(raw, 'num_attention_heads'),
        rotary_pct: field(raw, 'rotary_pct', 1),
        rotary_emb_base: field(raw, 'rotary_emb_base', 10000),
        max_position_embeddings: size(raw, 'max_position_embeddings'),
        layer_norm_eps: field(raw, 'layer_norm_eps', 1e-5),
        use_parallel_residual: raw['use_parallel_residual'] !== false,
        hidden_act: typeof raw['hidden_act'] === 'string' ? raw['hidden_act'] : 'gelu',
      };
      divides(['num_attention_heads', c.num_attention_heads], ['hidden_size', c.hidden_size]);
      expectShapes(checkpoint, [
        ['gpt_neox.embed_in.weight', [c.vocab_size, c.hidden_size], `vocab_size ${c.vocab_size} and hidden_size ${c.hidden_size}`],
        ['gpt_neox.layers.0.mlp.dense_h_to_4h.weight', [c.intermediate_size, c.hidden_size], `hidden_size ${c.hidden_size} and intermediate_size ${c.intermediate_size}`],
      ]);
      return { family, config: c };
    }
    default:
      throw new FormatError(checkpoint.label, `no graph builder for the "${family}" family (known: ${GRAPH_FAMILIES.join(', ')})`);
  }
}
