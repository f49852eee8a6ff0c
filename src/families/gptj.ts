import type { ModelFamily } from './modelFamily';

/** GPT-J: nn.Linear `mlp.fc_out.weight` stored [d_model, d_ff]. */
export const gptj: ModelFamily = {
  id: 'gptj',
  description: 'GPT-J (nn.Linear fc_out, stored [d_model, d_ff])',
  modelTypes: ['gptj'],
  mlpOutputPattern: /^(?:transformer\.)?h\.(\d+)\.mlp\.fc_out\.weight$/,
  rowsAxis: 1,
  // Attention and MLP run in parallel on ln_1's output.
  mlpInputs: { normWeight: 'ln_1.weight', normBias: 'ln_1.bias', input: 'mlp.fc_in.weight', inputBias: 'mlp.fc_in.bias', inputNeuronAxis: 0 },
};
