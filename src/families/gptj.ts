import type { ModelFamily } from './modelFamily';

/** GPT-J: nn.Linear `mlp.fc_out.weight` stored [d_model, d_ff]. */
export const gptj: ModelFamily = {
  id: 'gptj',
  description: 'GPT-J (nn.Linear fc_out, stored [d_model, d_ff])',
  modelTypes: ['gptj'],
  mlpOutputPattern: /^(?:transformer\.)?h\.(\d+)\.mlp\.fc_out\.weight$/,
  rowsAxis: 1,
};
