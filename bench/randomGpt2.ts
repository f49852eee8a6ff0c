import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SeededRandom } from '../src/core/random';
import { gpt2ParamShapes, type Gpt2Config } from '../src/edit/gpt2Model';
import { writeSafetensors } from '../src/formats/safetensorsWriter';

/** GPT-2 small's shapes (124M parameters), the demo's vocabulary inside a 50257-row embedding. */
export const GPT2_SMALL: Gpt2Config = { vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12, n_inner: 3072, layer_norm_epsilon: 1e-5 };

/**
 * A GPT-2-family checkpoint of the given shapes with random weights (N(0, 0.02), layer norms at 1) and the
 * demo's tokenizer, written to `dir`: what the editor's speed and memory at a real model's size are measured on.
 */
export function writeRandomGpt2(dir: string, c: Gpt2Config = GPT2_SMALL, seed = 1): { parameters: number; bytes: number } {
  const rng = new SeededRandom(seed);
  let parameters = 0;
  const tensors = gpt2ParamShapes(c).map(([name, shape]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    parameters += size;
    const values = /ln_\w+\.weight$/.test(name) ? new Float32Array(size).fill(1) : /\.bias$/.test(name) ? new Float32Array(size) : Float32Array.from(rng.gaussianArray(size), (x) => 0.02 * x);
    return { name, dtype: 'F32' as const, shape, values };
  });
  const bytes = writeSafetensors(tensors);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.safetensors'), bytes);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2', vocab_size: c.vocab_size, n_positions: c.n_positions, n_embd: c.n_embd, n_layer: c.n_layer, n_head: c.n_head, n_inner: c.n_inner, layer_norm_epsilon: c.layer_norm_epsilon, activation_function: 'gelu_new' }));
  copyFileSync('public/demo/base/tokenizer.json', join(dir, 'tokenizer.json'));
  return { parameters, bytes: bytes.length };
}
