import { instantiateKernels, type KernelExports, kernelModule } from './kernelModule';

const PAGE = 65536;
/** WebAssembly memory32 tops out at 4 GiB (65536 pages). */
const MAX_PAGES = 65536;

/**
 * The kernels' memory and its allocator: regions (a resident matrix, a call's panels) are placed first-fit
 * and freed by byte offset, so the memory grows to the most ever held at once and is reused after that
 * (WebAssembly memory never shrinks). Shared (threads can run kernels on it in place) where asked; views are
 * made per use, since growing an unshared memory replaces its buffer.
 */
export class ResidentKernels {
  readonly memory: WebAssembly.Memory;
  readonly module: WebAssembly.Module;
  readonly exports: KernelExports;
  /** Live regions, sorted by offset. */
  private regions: { at: number; bytes: number }[] = [];

  constructor(readonly shared = false) {
    this.module = kernelModule(shared);
    const memory = shared ? new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true }) : undefined;
    const instance = instantiateKernels(this.module, memory);
    this.memory = instance.memory;
    this.exports = instance.exports;
  }

  /** Bytes the memory holds now (its high-water mark). */
  get memoryBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** A region of `bytes` (16-byte aligned), zero-filled. */
  alloc(bytes: number): number {
    const size = Math.ceil(Math.max(bytes, 16) / 16) * 16;
    let at = 0;
    let index = 0;
    for (; index < this.regions.length; index++) {
      const r = this.regions[index] as { at: number; bytes: number };
      if (r.at - at >= size) break;
      at = r.at + r.bytes;
    }
    if (at + size > MAX_PAGES * PAGE) throw new RangeError(`${(size / 2 ** 20).toFixed(0)} MiB more does not fit in WebAssembly's 4 GiB memory`);
    const have = this.memory.buffer.byteLength;
    if (at + size > have) this.memory.grow(Math.ceil((at + size - have) / PAGE));
    this.regions.splice(index, 0, { at, bytes: size });
    new Uint8Array(this.memory.buffer, at, size).fill(0);
    return at;
  }

  free(at: number): void {
    this.regions = this.regions.filter((r) => r.at !== at);
  }

  /** A float32 view of `length` values at byte offset `at` (valid until the next alloc unless shared). */
  view(at: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, length);
  }
}
