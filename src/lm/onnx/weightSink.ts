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

/** The largest single ArrayBuffer a JavaScript engine is sure to allocate (V8: 2^32 - 1 bytes on 64-bit, less elsewhere). */
export const MAX_MEMORY_WEIGHT_BYTES = 2 ** 31 - 1;

/** Weights kept in memory and joined once into the array onnxruntime-web's `externalData` takes. */
export class MemoryWeightSink implements WeightSink {
  readonly alignment = 64;
  private chunks: Uint8Array[] = [];
  private total = 0;

  get bytesWritten(): number {
    return this.total;
  }

  write(bytes: Uint8Array): void {
    if (this.total + bytes.length > MAX_MEMORY_WEIGHT_BYTES) {
      throw new RangeError(`the model's weights pass ${(MAX_MEMORY_WEIGHT_BYTES / 2 ** 30).toFixed(0)} GiB as float32: too large to hold in one in-memory array`);
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
