/**
 * Where a graph's external weight bytes go as the builder places them, tensor by tensor: memory for the page
 * (onnxruntime-web's `externalData`, one entry per weight, so nothing is ever joined into a whole-model
 * array), a file for real sizes on the CLI (the native runtime maps it beside the model).
 */
export interface WeightSink {
  readonly bytesWritten: number;
  /** Stores one weight's bytes; says which external file holds them and where. */
  place(bytes: Uint8Array): { location: string; offset: number };
}

/**
 * onnxruntime-web's WebAssembly heap (32-bit addresses): the most weights held in memory can ever reach a
 * session run on wasm. One limit for the sink and for the check made from the header (WASM_RUNTIME_CAPACITY),
 * so a model the check lets through is never stopped halfway by the sink.
 */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;

/**
 * Weights kept in memory, each its own external "file" (`w0.bin`, `w1.bin`, ...): onnxruntime-web mounts
 * the arrays as they are, and on WebGPU uploads them to the GPU from there without passing through its heap.
 * `limitBytes` is the runtime's ceiling (the wasm heap by default; none on WebGPU).
 */
export class MemoryWeightSink implements WeightSink {
  private readonly weights: { path: string; data: Uint8Array }[] = [];
  private total = 0;

  constructor(readonly limitBytes = WASM_HEAP_BYTES) {}

  get bytesWritten(): number {
    return this.total;
  }

  place(bytes: Uint8Array): { location: string; offset: number } {
    if (this.total + bytes.length > this.limitBytes) {
      throw new RangeError(`the model's weights pass ${(this.limitBytes / 2 ** 30).toFixed(0)} GiB: more than the WebAssembly runtime can hold`);
    }
    const path = `w${this.weights.length}.bin`;
    this.weights.push({ path, data: bytes });
    this.total += bytes.length;
    return { location: path, offset: 0 };
  }

  /** What onnxruntime-web's `externalData` takes. */
  files(): { path: string; data: Uint8Array }[] {
    return this.weights;
  }
}
