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
  /** The weights alone as that graph stores them (16-bit ones as stored, the rest float32). */
  keptWeightBytes: number;
  /** The tensor with the most values: as float32 (a cast's output) it must fit one buffer of the runtime. */
  largestTensor: { name: string; values: number };
}

/** Where a runtime's memory ends, and what sets the limit (said to the user when a model does not fit). */
export interface RuntimeCapacity {
  bytes: number;
  limit: string;
  /** What to do instead, e.g. "run it with the command line". */
  instead: string;
  /** The largest single buffer it can hold (a GPU's maxBufferSize / binding size), where there is one. */
  bufferBytes?: number;
  /** Keep 16-bit weights as stored even where float32 would fit (a GPU: its memory is the scarce part). */
  preferHalf?: boolean;
  /** Disk space for a weight file the runtime writes first (the native runtime's, in the temporary folder). */
  scratch?: { bytes: number; where: string };
}

/** How a runtime would hold a checkpoint: float32, or its 16-bit weights as stored; and what that takes. */
export interface RuntimePlan {
  bytes: number;
  keepsHalf: boolean;
  /** The weights alone, as held. */
  weightBytes: number;
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
  let largestTensor = { name: '', values: 0 };
  for (const t of checkpoint.tensors.values()) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count > largestTensor.values) largestTensor = { name: t.name, values: count };
    parameters += count;
    storedBytes += t.end - t.begin;
    const kept = (t.dtype === 'F16' || t.dtype === 'BF16') && count >= KEEP_HALF_MIN_VALUES;
    keptBytes += kept ? 2 * count : 4 * count;
    if (kept && count > (largestKept[0] as number)) largestKept.splice(0, 2, count, largestKept[0] as number);
    else if (kept && count > (largestKept[1] as number)) largestKept[1] = count;
  }
  const transient = 4 * ((largestKept[0] as number) + (largestKept[1] as number));
  return { parameters, storedBytes, runtimeBytes: Math.ceil(OVERHEAD * 4 * parameters), storedRuntimeBytes: Math.ceil(OVERHEAD * (keptBytes + transient)), keptWeightBytes: keptBytes, largestTensor };
}

/**
 * float32 while that fits the runtime, its memory and any disk it writes the weights to first (the fastest:
 * nothing cast per run), else the 16-bit weights as stored where the runtime's cast takes them (`halfTypes`)
 * and that is smaller; on a runtime that prefers them, always.
 */
export function runtimePlan(needs: ModelNeeds, capacity: RuntimeCapacity | undefined, halfTypes: readonly HalfType[]): RuntimePlan {
  const canKeep = halfTypes.length > 0 && needs.storedRuntimeBytes < needs.runtimeBytes;
  const floatFits = capacity === undefined || (needs.runtimeBytes <= capacity.bytes && (!capacity.scratch || 4 * needs.parameters <= capacity.scratch.bytes));
  if (canKeep && (capacity?.preferHalf || !floatFits)) return { bytes: needs.storedRuntimeBytes, keepsHalf: true, weightBytes: needs.keptWeightBytes };
  return { bytes: needs.runtimeBytes, keepsHalf: false, weightBytes: 4 * needs.parameters };
}

/**
 * Which weights a plan keeps in 16 bits: the large F16/BF16 ones, in their own type where the runtime's cast
 * takes it (`halfTypes`), else as F16 (a BF16 weight on a runtime that casts only F16; float32 where F16
 * cannot hold its range, see GraphBuilder).
 */
export function weightPrecision(checkpoint: Checkpoint, plan: RuntimePlan, halfTypes: readonly HalfType[]): WeightPrecision {
  if (!plan.keepsHalf) return () => null;
  return (name) => {
    const tensor = checkpoint.tensors.get(name);
    const dtype = tensor?.dtype;
    if ((dtype !== 'F16' && dtype !== 'BF16') || tensor!.shape.reduce((a, b) => a * b, 1) < KEEP_HALF_MIN_VALUES) return null;
    return halfTypes.includes(dtype) ? dtype : halfTypes.includes('F16') ? 'F16' : null;
  };
}

export function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

/**
 * null when the model fits the runtime as `runtimePlan` would hold it; otherwise the sentence that says why
 * not and what to do. The runtime's cast types default to the CPU runtimes' (F16 and BF16).
 */
export function capacityRefusal(needs: ModelNeeds, capacity: RuntimeCapacity, halfTypes: readonly HalfType[] = ['F16', 'BF16']): string | null {
  const plan = runtimePlan(needs, capacity, halfTypes);
  const largest = 4 * needs.largestTensor.values;
  if (capacity.bufferBytes !== undefined && largest > capacity.bufferBytes) {
    return `needs its largest tensor (${needs.largestTensor.name}, ${formatBytes(largest)} as float32) in one buffer, but ${capacity.limit}; ${capacity.instead}`;
  }
  if (plan.bytes <= capacity.bytes) {
    if (!capacity.scratch || plan.weightBytes <= capacity.scratch.bytes) return null;
    return `needs about ${formatBytes(plan.weightBytes)} of disk for the runtime's weight file (${plan.keepsHalf ? '16-bit weights kept as stored' : 'float32'}), but ${capacity.scratch.where} has ${formatBytes(capacity.scratch.bytes)} free; set TMPDIR to a folder with more room`;
  }
  const held = plan.keepsHalf ? '16-bit weights kept as stored' : 'held as float32';
  return `needs about ${formatBytes(plan.bytes)} to run (${(needs.parameters / 1e9).toFixed(2)} B parameters, ${formatBytes(needs.storedBytes)} as stored, ${held}, with room for activations), but ${capacity.limit}; ${capacity.instead}`;
}
