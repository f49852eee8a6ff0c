import type { Checkpoint } from '../formats/checkpoint';
import { WASM_HEAP_BYTES } from './onnx/weightSink';

/** What running a checkpoint's language model takes, worked out from its header alone (no weight is read). */
export interface ModelNeeds {
  parameters: number;
  /** The weights as stored (F16/BF16: 2 bytes each). */
  storedBytes: number;
  /** The weights as the graph holds them (float32), plus the transposed copy of a tied embedding the runtime folds in. */
  runtimeBytes: number;
}

/** Where a runtime's memory ends, and what sets the limit (said to the user when a model does not fit). */
export interface RuntimeCapacity {
  bytes: number;
  limit: string;
  /** What to do instead, e.g. "run it with the command line". */
  instead: string;
}

/** onnxruntime-web's WebAssembly heap: 32-bit addresses, 4 GiB, which must also hold activations and the runtime. */
export const WASM_RUNTIME_CAPACITY: RuntimeCapacity = {
  bytes: WASM_HEAP_BYTES,
  limit: "this page's WebAssembly runtime holds at most 4 GiB (32-bit addresses)",
  instead: 'the command line (`edit-forensics generate`) runs it on native kernels without that ceiling',
};

/** Headroom for activations, the runtime's own buffers and a swapped MLP matrix. */
const OVERHEAD = 1.1;

export function languageModelNeeds(checkpoint: Checkpoint): ModelNeeds {
  let parameters = 0;
  let storedBytes = 0;
  for (const t of checkpoint.tensors.values()) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    parameters += count;
    storedBytes += t.end - t.begin;
  }
  const embedding = ['transformer.wte.weight', 'wte.weight', 'model.embed_tokens.weight'].map((n) => checkpoint.tensors.get(n)).find((t) => t);
  const tied = embedding !== undefined && !checkpoint.tensors.has('lm_head.weight');
  const embeddingCount = tied && embedding ? embedding.shape.reduce((a, b) => a * b, 1) : 0;
  return { parameters, storedBytes, runtimeBytes: Math.ceil(OVERHEAD * 4 * (parameters + embeddingCount)) };
}

export function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

/** null when the model fits the runtime; otherwise the sentence that says why not and what to do. */
export function capacityRefusal(needs: ModelNeeds, capacity: RuntimeCapacity): string | null {
  if (needs.runtimeBytes <= capacity.bytes) return null;
  return `needs about ${formatBytes(needs.runtimeBytes)} to run (${(needs.parameters / 1e9).toFixed(2)} B parameters, ${formatBytes(needs.storedBytes)} as stored, held as float32 with room for activations), but ${capacity.limit}; ${capacity.instead}`;
}
