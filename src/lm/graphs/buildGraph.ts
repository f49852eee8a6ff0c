import type { Checkpoint } from '../../formats/checkpoint';
import { FormatError } from '../../formats/formatError';
import { readTensorRows } from '../../formats/tensorReader';
import { buildGpt2Graph, type Gpt2GraphConfig } from './gpt2Graph';
import { buildGptjGraph, type GptjGraphConfig } from './gptjGraph';
import type { BuiltGraph } from './graphTypes';
import { buildLlamaGraph, type LlamaGraphConfig } from './llamaGraph';
import { buildNeoxGraph, type NeoxGraphConfig } from './neoxGraph';

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
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new FormatError('config.json', `needs a number "${name}" to build the ${String(raw['model_type'] ?? 'model')} graph`);
  return v;
}

/** Builds the ONNX graph of a checkpoint of a known family, its MLP output matrix of `swapLayer` a graph input. */
export async function buildGraph(family: string, checkpoint: Checkpoint, swapLayer: number): Promise<BuiltGraph> {
  const raw = checkpoint.config?.raw;
  if (!raw) throw new FormatError(checkpoint.label, 'running the model needs its config.json next to the weights');
  const weights = (name: string) => readFloat32(checkpoint, name);
  switch (family) {
    case 'gpt2': {
      const c: Gpt2GraphConfig = {
        vocab_size: field(raw, 'vocab_size'),
        n_positions: field(raw, 'n_positions', raw['n_ctx'] as number | undefined),
        n_embd: field(raw, 'n_embd'),
        n_layer: field(raw, 'n_layer'),
        n_head: field(raw, 'n_head'),
        n_inner: typeof raw['n_inner'] === 'number' ? raw['n_inner'] : null,
        layer_norm_epsilon: field(raw, 'layer_norm_epsilon', 1e-5),
      };
      const prefix = checkpoint.tensors.has('transformer.wte.weight') ? 'transformer.' : '';
      return buildGpt2Graph(c, weights, { swapLayer, prefix });
    }
    case 'gptj': {
      const c: GptjGraphConfig = {
        vocab_size: field(raw, 'vocab_size'),
        n_positions: field(raw, 'n_positions'),
        n_embd: field(raw, 'n_embd'),
        n_layer: field(raw, 'n_layer'),
        n_head: field(raw, 'n_head'),
        n_inner: typeof raw['n_inner'] === 'number' ? raw['n_inner'] : null,
        rotary_dim: field(raw, 'rotary_dim'),
        layer_norm_epsilon: field(raw, 'layer_norm_epsilon', 1e-5),
      };
      return buildGptjGraph(c, weights, { swapLayer });
    }
    case 'llama': {
      const c: LlamaGraphConfig = {
        vocab_size: field(raw, 'vocab_size'),
        hidden_size: field(raw, 'hidden_size'),
        intermediate_size: field(raw, 'intermediate_size'),
        num_hidden_layers: field(raw, 'num_hidden_layers'),
        num_attention_heads: field(raw, 'num_attention_heads'),
        num_key_value_heads: field(raw, 'num_key_value_heads', raw['num_attention_heads'] as number | undefined),
        rms_norm_eps: field(raw, 'rms_norm_eps', 1e-6),
        rope_theta: field(raw, 'rope_theta', 10000),
        max_position_embeddings: field(raw, 'max_position_embeddings'),
        tie_word_embeddings: raw['tie_word_embeddings'] === true || !checkpoint.tensors.has('lm_head.weight'),
      };
      return buildLlamaGraph(c, weights, { swapLayer });
    }
    case 'gpt_neox': {
      const c: NeoxGraphConfig = {
        vocab_size: field(raw, 'vocab_size'),
        hidden_size: field(raw, 'hidden_size'),
        intermediate_size: field(raw, 'intermediate_size'),
        num_hidden_layers: field(raw, 'num_hidden_layers'),
        num_attention_heads: field(raw, 'num_attention_heads'),
        rotary_pct: field(raw, 'rotary_pct', 1),
        rotary_emb_base: field(raw, 'rotary_emb_base', 10000),
        max_position_embeddings: field(raw, 'max_position_embeddings'),
        layer_norm_eps: field(raw, 'layer_norm_eps', 1e-5),
        use_parallel_residual: raw['use_parallel_residual'] !== false,
        hidden_act: typeof raw['hidden_act'] === 'string' ? raw['hidden_act'] : 'gelu',
      };
      return buildNeoxGraph(c, weights, { swapLayer });
    }
    default:
      throw new FormatError(checkpoint.label, `no graph builder for the "${family}" family (known: ${GRAPH_FAMILIES.join(', ')})`);
  }
}
