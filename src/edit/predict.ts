import type { EditableModel } from './editableModel';
import type { Tensor } from './engine/tensor';
import { type ForwardOptions, type Gpt2Config, gpt2Forward, type Gpt2Params } from './gpt2Model';

/** Most likely next token after each prompt (token ids), batched by length; one forward per length group. */
export function nextTokens(c: Gpt2Config, params: Gpt2Params, prompts: readonly Int32Array[], options: Omit<ForwardOptions, 'logitRows'> = {}): Int32Array {
  return nextTokensBy((ids, batch, seq, logitRows) => gpt2Forward(null, c, params, ids, batch, seq, { ...options, logitRows }), prompts);
}

/** nextTokens for any model ROME edits (GPT-2, GPT-J, Llama). */
export function nextTokensOf(model: EditableModel, prompts: readonly Int32Array[]): Int32Array {
  return nextTokensBy((ids, batch, seq, logitRows) => model.forward(null, ids, batch, seq, { logitRows }), prompts);
}

function nextTokensBy(logitsOf: (ids: Int32Array, batch: number, seq: number, logitRows: Int32Array) => Tensor, prompts: readonly Int32Array[]): Int32Array {
  const out = new Int32Array(prompts.length);
  const groups = new Map<number, number[]>();
  prompts.forEach((p, i) => {
    const list = groups.get(p.length) ?? [];
    list.push(i);
    groups.set(p.length, list);
  });
  const CHUNK = 256;
  for (const [seq, members] of groups) {
    for (let start = 0; start < members.length; start += CHUNK) {
      const part = members.slice(start, start + CHUNK);
      const ids = new Int32Array(part.length * seq);
      part.forEach((m, r) => ids.set(prompts[m] as Int32Array, r * seq));
      const lastRows = Int32Array.from(part, (_, r) => r * seq + seq - 1);
      const logits = logitsOf(ids, part.length, seq, lastRows);
      const v = logits.cols;
      part.forEach((m, r) => {
        let best = 0;
        for (let j = 1; j < v; j++) if ((logits.data[r * v + j] as number) > (logits.data[r * v + best] as number)) best = j;
        out[m] = best;
      });
    }
  }
  return out;
}
