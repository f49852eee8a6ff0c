import type { ModelFamily } from './modelFamily';

/** Llama and its layout relatives (Mistral, Qwen2): gated MLP whose `down_proj.weight` is stored [d_model, d_ff]. */
export const llama: ModelFamily = {
  id: 'llama',
  description: 'Llama / Mistral / Qwen2 (nn.Linear down_proj, stored [d_model, d_ff])',
  modelTypes: ['llama', 'mistral', 'qwen2'],
  mlpOutputPattern: /^(?:model\.)?layers\.(\d+)\.mlp\.down_proj\.weight$/,
  rowsAxis: 1,
  mlpInputs: { normWeight: 'post_attention_layernorm.weight', input: 'mlp.up_proj.weight', gate: 'mlp.gate_proj.weight', inputNeuronAxis: 0 },
};
