import type { ModelFamily } from './modelFamily';

/** GPT-2: Conv1D `mlp.c_proj.weight` stored [d_ff, d_model]; checkpoints exist with and without `transformer.`. */
export const gpt2: ModelFamily = {
  id: 'gpt2',
  description: 'GPT-2 (Conv1D c_proj, stored [d_ff, d_model])',
  modelTypes: ['gpt2'],
  mlpOutputPattern: /^(?:transformer\.)?h\.(\d+)\.mlp\.c_proj\.weight$/,
  rowsAxis: 0,
  mlpInputs: { normWeight: 'ln_2.weight', normBias: 'ln_2.bias', input: 'mlp.c_fc.weight', inputBias: 'mlp.c_fc.bias', inputNeuronAxis: 1 },
};
