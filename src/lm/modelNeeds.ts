import type { Checkpoint } from '../formats/checkpoint';
import type { HalfType, WeightPrecision } from './onnx/graphBuilder';
import { WASM_HEAP_BYTES } from './onnx/weightSink';

/** What running a checkpoint's language model takes, worked out from its header alone (no weight is read). */
export interface ModelNeeds {
  parameters: number;
  /** The weights as stored (F16/BF16: 2 bytes each). */
  storedBytes: number;
  /** The weights as a float32 graph holds them, with room for activations. */
  runtimeBytes: number;
  /**
   * The same with the 16-bit weights kept as stored (F16/BF16, cast to float32 where used): two bytes each,
   * plus the float32 casts of the two largest alive at once.
   */
  storedRuntimeBytes: number;
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

/**
 * Weights with fewer values (norms, biases) stay float32 even when 16-bit weights are kept: they cost
 * nothing, and each cast would cost a node.
 */
export const KEEP_HALF_MIN_VALUES = 65536;

/** Headroom for activations, the runtime's own buffers and a swapped MLP matrix. */
const OVERHEAD = 1.1;

export function languageModelNeeds(checkpoint: Checkpoint): ModelNeeds {
  let parameters = 0;
  let storedBytes = 0;
  let keptBytes = 0;
  const largestKept = [0, 0];
  for (const t of checkpoint.tensors.values()) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    parameters += count;
    storedBytes += t.end - t.begin;
    const kept = (t.dtype === 'F16' || t.dtype === 'BF16') && count >= KEEP_HALF_MIN_VALUES;
    keptBytes += kept ? 2 * count : 4 * count;
    if (kept && count > (largestKept[0] as number)) largestKept.splice(0, 2, count, largestKept[0] as number);
    else if (kept && count > (largestKept[1] as number)) largestKept[1] = count;
  }
  const transient = 4 * ((largestKept[0] as number) + (largestKept[1] as number));
  return { parameters, storedBytes, runtimeBytes: Math.ceil(OVERHEAD * 4 * parameters), storedRuntimeBytes: Math.ceil(OVERHEAD * (keptBytes + transient)) };
}

/**
 * How a runtime holds a checkpoint's weights: float32 while that fits (the fastest: nothing cast per run),
 * else the 16-bit weights as stored where the runtime's cast takes their type (`halfTypes`; a BF16 weight
 * on a runtime that takes only F16 becomes F16, or float32 where F16 cannot hold its range).
 */
export function weightPrecision(checkpoint: Checkpoint, needs: ModelNeeds, capacity: RuntimeCapacity | undefined, halfTypes: readonly HalfType[]): { precision: WeightPrecision; bytes: number } {
  if (!capacity || needs.runtimeBytes <= capacity.bytes || halfTypes.length === 0) return { precision: () => null, bytes: needs.runtimeBytes };
  const precision: WeightPrecision = (name) => {
    const tensor = checkpoint.tensors.get(name);
    const dtype = tensor?.dtype;
    if ((dtype !== 'F16' && dtype !== 'BF16') || tensor!.shape.reduce((a, b) => a * b, 1) < KEEP_HALF_MIN_VALUES) return null;
    return halfTypes.includes(dtype) ? dtype : halfTypes.includes('F16') ? 'F16' : null;
  };
  return { precision, bytes: needs.storedRuntimeBytes };
}

export function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

/**
 * null when the model fits the runtime (as float32, or with its 16-bit weights kept as stored where the
 * runtime casts them: `keepsHalf`); otherwise the sentence that says why not and what to do.
 */
export function capacityRefusal(needs: ModelNeeds, capacity: RuntimeCapacity, keepsHalf = true): string | null {
  const bytes = keepsHalf ? Math.min(needs.runtimeBytes, needs.storedRuntimeBytes) : needs.runtimeBytes;
  if (bytes <= capacity.bytes) return null;
  const held = keepsHalf && needs.storedRuntimeBytes < needs.runtimeBytes ? '16-bit weights kept as stored' : 'held as float32';
  return `needs about ${formatBytes(bytes)} to run (${(needs.parameters / 1e9).toFixed(2)} B parameters, ${formatBytes(needs.storedBytes)} as stored, ${held}, with room for activations), but ${capacity.limit}; ${capacity.instead}`;
}
