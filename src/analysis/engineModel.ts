import { type EditableModel, gpt2Editable } from '../edit/editableModel';
import { Tensor } from '../edit/engine/tensor';
import { gptjEditable, llamaEditable } from '../edit/familyModels';
import { gptjParamShapes, llamaParamShapes } from '../edit/forgeArchitecture';
import { type Gpt2Config, type Gpt2Params, gpt2ParamShapes } from '../edit/gpt2Model';
import { familyConfig } from '../lm/graphs/buildGraph';
import type { Checkpoint } from '../formats/checkpoint';
import { FormatError } from '../formats/formatError';
import { readTensorRows } from '../formats/tensorReader';

/**
 * A checkpoint loaded into the CPU engine (src/edit), for analyses that need intermediate activations the
 * ONNX graphs do not expose (object readout, the object decoder) and for ROME. The engine holds every weight
 * in float32, so it is limited to small models.
 */
export const MAX_ENGINE_PARAMETERS = 200_000_000;

export function engineConfig(checkpoint: Checkpoint): Gpt2Config {
  const c = checkpoint.config;
  if (!c || c.modelType !== 'gpt2') throw new FormatError(checkpoint.label, 'object inference runs on GPT-2-family checkpoints only (config.json model_type "gpt2")');
  const raw = c.raw as Record<string, unknown>;
  const num = (key: string, fallback?: number): number => {
    const v = raw[key] ?? fallback;
    if (!Number.isSafeInteger(v) || (v as number) <= 0) throw new FormatError(checkpoint.label, `config.json: ${key} must be a positive integer`);
    return v as number;
  };
  const nEmbd = num('n_embd');
  const eps = typeof raw['layer_norm_epsilon'] === 'number' ? (raw['layer_norm_epsilon'] as number) : 1e-5;
  return { vocab_size: num('vocab_size'), n_positions: num('n_positions', 1024), n_embd: nEmbd, n_layer: num('n_layer'), n_head: num('n_head'), n_inner: raw['n_inner'] == null ? 4 * nEmbd : num('n_inner'), layer_norm_epsilon: eps };
}

/** Reads every parameter (names with or without the `transformer.` prefix) into engine tensors. */
export async function loadEngineParams(checkpoint: Checkpoint, checkpointHook?: () => void): Promise<{ config: Gpt2Config; params: Gpt2Params }> {
  const config = engineConfig(checkpoint);
  return { config, params: await readParams(checkpoint, gpt2ParamShapes(config), checkpointHook) };
}

/** The families the CPU engine runs (config.json model_type). */
export const ENGINE_FAMILIES = ['gpt2', 'gptj', 'llama'] as const;

/**
 * A GPT-2, GPT-J or Llama checkpoint in the CPU engine, with the forward hooks ROME and the object decoder
 * use; for GPT-2 also its configuration and weights as such (the training-free readout and GPT-2's key
 * statistics work on those).
 */
export async function loadEngineModel(checkpoint: Checkpoint, checkpointHook?: () => void): Promise<{ model: EditableModel; gpt2: { config: Gpt2Config; params: Gpt2Params } | null }> {
  const type = checkpoint.config?.modelType;
  if (type === 'gpt2') {
    const gpt2 = await loadEngineParams(checkpoint, checkpointHook);
    return { model: gpt2Editable(gpt2.config, gpt2.params), gpt2 };
  }
  if (type !== 'llama' && type !== 'gptj') throw new FormatError(checkpoint.label, `runs on the CPU engine only as ${ENGINE_FAMILIES.join(', ')} (config.json model_type), not "${type ?? 'unknown'}"`);
  const fc = familyConfig(type, checkpoint);
  if (fc.family === 'llama') {
    const shapes = llamaParamShapes(fc.config).filter(([name]) => !(fc.config.tie_word_embeddings && name === 'lm_head.weight'));
    return { model: llamaEditable(fc.config, await readParams(checkpoint, shapes, checkpointHook)), gpt2: null };
  }
  if (fc.family !== 'gptj') throw new Error(`familyConfig answered ${fc.family} for ${type}`);
  return { model: gptjEditable(fc.config, await readParams(checkpoint, gptjParamShapes(fc.config), checkpointHook)), gpt2: null };
}

async function readParams(checkpoint: Checkpoint, shapes: readonly [string, number[]][], checkpointHook?: () => void): Promise<Map<string, Tensor>> {
  const total = shapes.reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0);
  if (total > MAX_ENGINE_PARAMETERS) throw new FormatError(checkpoint.label, `has ${(total / 1e6).toFixed(0)}M parameters; the CPU engine (object inference, the editor's ROME) takes models up to ${MAX_ENGINE_PARAMETERS / 1e6}M`);
  const params = new Map<string, Tensor>();
  for (const [name, shape] of shapes) {
    const info = checkpoint.tensors.get(name) ?? checkpoint.tensors.get(name.replace(/^transformer\./, ''));
    if (!info) throw new FormatError(checkpoint.label, `has no tensor ${name}`);
    const size = shape.reduce((a, b) => a * b, 1);
    const elements = info.shape.reduce((a, b) => a * b, 1);
    if (elements !== size) throw new FormatError(checkpoint.label, `tensor ${info.name} has shape [${info.shape.join(', ')}], expected [${shape.join(', ')}]`);
    const rows = await readTensorRows({ ...info, shape: shape.length === 2 ? shape : [1, size] }, 0, checkpointHook);
    params.set(name, new Tensor(rows.data, shape, false));
  }
  return params;
}
