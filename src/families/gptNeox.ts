import type { ModelFamily } from './modelFamily';

/** GPT-NeoX / Pythia: nn.Linear `mlp.dense_4h_to_h.weight` stored [d_model, d_ff]. */
export const gptNeox: ModelFamily = {
  id: 'gpt_neox',
  description: 'GPT-NeoX / Pythia (nn.Linear dense_4h_to_h, stored [d_model, d_ff])',
  modelTypes: ['gpt_neox'],
  mlpOutputPattern: /^(?:gpt_neox\.)?layers\.(\d+)\.mlp\.dense_4h_to_h\.weight$/,
  rowsAxis: 1,
};
