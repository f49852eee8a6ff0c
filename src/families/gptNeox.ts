import type { ModelFamily } from './modelFamily';

/** GPT-NeoX / Pythia: nn.Linear `mlp.dense_4h_to_h.weight` stored [d_model, d_ff]. */
export const gptNeox: ModelFamily = {
  id: 'gpt_neox',
  description: 'GPT-NeoX / Pythia (nn.Linear dense_4h_to_h, stored [d_model, d_ff])',
  modelTypes: ['gpt_neox'],
  mlpOutputPattern: /^(?:gpt_neox\.)?layers\.(\d+)\.mlp\.dense_4h_to_h\.weight$/,
  rowsAxis: 1,
  mlpInputs: { normWeight: 'post_attention_layernorm.weight', normBias: 'post_attention_layernorm.bias', input: 'mlp.dense_h_to_4h.weight', inputBias: 'mlp.dense_h_to_4h.bias', inputNeuronAxis: 0 },
};
