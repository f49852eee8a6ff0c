/**
 * Where a graph's external weight bytes go as the builder places them, tensor by tensor: memory for small
 * models (the page's wasm runtime takes them as one array), a file for real sizes (the CLI's native
 * runtime reads it beside the model), so no whole-model buffer is ever assembled.
 */
export interface WeightSink {
  /** Each weight starts at a multiple of this (ORT prefers 64; a page size lets the runtime map the file). */
  readonly alignment: number;
  readonly bytesWritten: number;
  write(bytes: Uint8Array): void;
}

/**
 * onnxruntime-web's WebAssembly heap (32-bit addresses): the most weights held in memory can ever reach a
 * session. One limit for the sink and for the check made from the header (WASM_RUNTIME_CAPACITY), so a model
 * the check lets through is never stopped halfway by the sink.
 */
export const WASM_HEAP_BYTES = 4 * 2 ** 30;

/** Weights kept in memory and joined once into the array onnxruntime-web's `externalData` takes. */
export class MemoryWeightSink implements WeightSink {
  readonly alignment = 64;
  private chunks: Uint8Array[] = [];
  private total = 0;

  get bytesWritten(): number {
    return this.total;
  }

  write(bytes: Uint8Array): void {
    if (this.total + bytes.length > WASM_HEAP_BYTES) {
      throw new RangeError(`the model's weights pass ${(WASM_HEAP_BYTES / 2 ** 30).toFixed(0)} GiB as float32: more than the WebAssembly runtime can hold`);
    }
    this.chunks.push(bytes);
    this.total += bytes.length;
  }

  /** All bytes, joined (the chunks are released). */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.total);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    this.chunks = [out];
    return out;
  }
}
