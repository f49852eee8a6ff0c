import type { TensorSpec } from './checkpointWriter';

/** GPT-2 XL: 48 layers, d_model 1600, d_ff 6400, GPT-2's vocabulary; the planted edit at ROME's layer 17. */
export const GPT2_XL = { vocab_size: 50257, n_positions: 1024, n_embd: 1600, n_layer: 48, n_head: 25, editedLayer: 17 } as const;

export function gpt2XlSpecs(layers: number = GPT2_XL.n_layer): TensorSpec[] {
  const { vocab_size: v, n_positions: p, n_embd: d, editedLayer } = GPT2_XL;
  const ff = 4 * d;
  const specs: TensorSpec[] = [
    { name: 'transformer.wte.weight', shape: [v, d], fill: 'noise' },
    { name: 'transformer.wpe.weight', shape: [p, d], fill: 'noise' },
  ];
  for (let i = 0; i < layers; i++) {
    const h = `transformer.h.${i}.`;
    specs.push(
      { name: `${h}ln_1.weight`, shape: [d], fill: 'ones' },
      { name: `${h}ln_1.bias`, shape: [d], fill: 'zeros' },
      { name: `${h}attn.c_attn.weight`, shape: [d, 3 * d], fill: 'noise' },
      { name: `${h}attn.c_attn.bias`, shape: [3 * d], fill: 'zeros' },
      { name: `${h}attn.c_proj.weight`, shape: [d, d], fill: 'noise' },
      { name: `${h}attn.c_proj.bias`, shape: [d], fill: 'zeros' },
      { name: `${h}ln_2.weight`, shape: [d], fill: 'ones' },
      { name: `${h}ln_2.bias`, shape: [d], fill: 'zeros' },
      { name: `${h}mlp.c_fc.weight`, shape: [d, ff], fill: 'noise' },
      { name: `${h}mlp.c_fc.bias`, shape: [ff], fill: 'zeros' },
      { name: `${h}mlp.c_proj.weight`, shape: [ff, d], fill: i === editedLayer ? 'edited' : 'noise' },
      { name: `${h}mlp.c_proj.bias`, shape: [d], fill: 'zeros' },
    );
  }
  specs.push({ name: 'transformer.ln_f.weight', shape: [d], fill: 'ones' }, { name: 'transformer.ln_f.bias', shape: [d], fill: 'zeros' });
  return specs;
}

export function gpt2XlConfig(layers: number = GPT2_XL.n_layer): Record<string, unknown> {
  const { vocab_size, n_positions, n_embd, n_head } = GPT2_XL;
  return { model_type: 'gpt2', vocab_size, n_positions, n_ctx: n_positions, n_embd, n_layer: layers, n_head, layer_norm_epsilon: 1e-5, activation_function: 'gelu_new', torch_dtype: 'float16' };
}

/** Llama-3-8B: 32 layers, hidden 4096, intermediate 14336, 8 key-value heads, 128,256 tokens, untied head; an edit planted at layer 5 (EasyEdit's). */
export const LLAMA3_8B = { vocab_size: 128256, hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8, editedLayer: 5 } as const;

export function llama3Specs(layers: number = LLAMA3_8B.num_hidden_layers): TensorSpec[] {
  const { vocab_size: v, hidden_size: d, intermediate_size: ff, num_attention_heads: heads, num_key_value_heads: kvHeads, editedLayer } = LLAMA3_8B;
  const kv = (d / heads) * kvHeads;
  const specs: TensorSpec[] = [{ name: 'model.embed_tokens.weight', shape: [v, d], fill: 'noise' }];
  for (let i = 0; i < layers; i++) {
    const l = `model.layers.${i}.`;
    specs.push(
      { name: `${l}input_layernorm.weight`, shape: [d], fill: 'ones' },
      { name: `${l}self_attn.q_proj.weight`, shape: [d, d], fill: 'noise' },
      { name: `${l}self_attn.k_proj.weight`, shape: [kv, d], fill: 'noise' },
      { name: `${l}self_attn.v_proj.weight`, shape: [kv, d], fill: 'noise' },
      { name: `${l}self_attn.o_proj.weight`, shape: [d, d], fill: 'noise' },
      { name: `${l}post_attention_layernorm.weight`, shape: [d], fill: 'ones' },
      { name: `${l}mlp.gate_proj.weight`, shape: [ff, d], fill: 'noise' },
      { name: `${l}mlp.up_proj.weight`, shape: [ff, d], fill: 'noise' },
      // nn.Linear [d_model, d_ff]: the d_ff-indexed rows are its columns, so the planted edit goes in transposed.
      { name: `${l}mlp.down_proj.weight`, shape: [d, ff], fill: i === editedLayer ? 'editedColumns' : 'noise' },
    );
  }
  specs.push({ name: 'model.norm.weight', shape: [d], fill: 'ones' }, { name: 'lm_head.weight', shape: [v, d], fill: 'noise' });
  return specs;
}

export function llama3Config(layers: number = LLAMA3_8B.num_hidden_layers): Record<string, unknown> {
  const { vocab_size, hidden_size, intermediate_size, num_attention_heads, num_key_value_heads } = LLAMA3_8B;
  return { model_type: 'llama', architectures: ['LlamaForCausalLM'], vocab_size, hidden_size, intermediate_size, num_hidden_layers: layers, num_attention_heads, num_key_value_heads, rms_norm_eps: 1e-5, rope_theta: 500000, max_position_embeddings: 8192, tie_word_embeddings: false, torch_dtype: 'bfloat16' };
}
