import { llamaEditable } from './familyModels';
import type { LlamaGraphConfig } from '../lm/graphs/llamaGraph';
import type { Tensor } from './engine/tensor';

/** The same config fields as the ONNX graph reads (positions come from the prompt length here). */
export type LlamaConfig = Omit<LlamaGraphConfig, 'max_position_embeddings'>;

/**
 * Reference forward of a Llama checkpoint (RMSNorm, rotary on whole heads in halves, grouped-query
 * attention, SwiGLU), on the forge engine, with Hugging Face tensor names and nn.Linear layouts. Positions
 * are 0..seq-1. Returns logits [batch*seq, vocab]. The ONNX graph is checked against it.
 */
export function llamaForward(c: LlamaConfig, params: Map<string, Tensor>, ids: Int32Array, batch: number, seq: number): Tensor {
  return llamaEditable(c, params).forward(null, ids, batch, seq);
}
