import type { LoadedMatrix, MatrixBackend } from '../core/matrixBackend';
import type { RowMatrix } from '../core/matrix';
import { addChunks, countZeroRows, type PairwiseCosineResult, pcsFromUnitRowSum } from '../core/pairwiseCosine';
import { destroyAll, outputBuffer, storageBuffer, submitAndRead } from './buffers';
import type { GpuContext } from './gpuContext';
import { encodeCosineBlock } from './kernels/cosineBlockKernel';
import { encodeMatmul } from './kernels/matmulKernel';
import { encodePcsTile } from './kernels/pcsKernel';

interface RowTile {
  buffer: GPUBuffer;
  firstRow: number;
  rows: number;
}

export interface GpuBackendOptions {
  /** Caps rows per tile below what the binding limit allows (tests force tiling with it). */
  maxRowsPerTile?: number;
}

/**
 * A matrix uploaded once as row tiles, each within the device's binding limit; every kernel then runs on
 * the resident tiles. Results that span tiles (pcs sums, A^T B) are added on the host in float64.
 */
export class GpuMatrix implements LoadedMatrix {
  private constructor(
    private readonly ctx: GpuContext,
    readonly rows: number,
    readonly cols: number,
    private tiles: RowTile[],
  ) {}

  static upload(ctx: GpuContext, m: RowMatrix, options: GpuBackendOptions = {}): GpuMatrix {
    const rowBytes = Math.max(4, m.cols * 4);
    const byLimit = Math.floor(ctx.maxBindingBytes / rowBytes);
    // Matmul dispatches one workgroup row per 16 output rows: stay within the dispatch limit too.
    const byDispatch = ctx.maxWorkgroupsPerDimension * 16;
    const rowsPerTile = Math.max(1, Math.min(byLimit, byDispatch, options.maxRowsPerTile ?? Infinity));
    if (byLimit < 1) throw new Error(`one row of ${m.cols} floats exceeds the GPU's binding limit of ${ctx.maxBindingBytes} bytes`);
    const tiles: RowTile[] = [];
    for (let first = 0; first < m.rows; first += rowsPerTile) {
      const rows = Math.min(rowsPerTile, m.rows - first);
      const buffer = storageBuffer(ctx.device, m.data.subarray(first * m.cols, (first + rows) * m.cols), `rows ${first}+${rows}`);
      tiles.push({ buffer, firstRow: first, rows });
    }
    return new GpuMatrix(ctx, m.rows, m.cols, tiles);
  }

  get tileCount(): number {
    return this.tiles.length;
  }

  async pairwiseCosine(): Promise<PairwiseCosineResult> {
    const { device } = this.ctx;
    const sum = new Float64Array(this.cols);
    let zeros = 0;
    for (const tile of this.tiles) {
      const encoder = device.createCommandEncoder();
      const out = await encodePcsTile(device, encoder, tile.buffer, tile.rows, this.cols);
      const [inv, partial] = await submitAndRead(device, encoder, [
        { buffer: out.inverseNorms, floats: tile.rows },
        { buffer: out.partialSums, floats: out.chunks * this.cols },
      ]);
      destroyAll(out.transient);
      zeros += countZeroRows(inv as Float32Array);
      addChunks(sum, partial as Float32Array);
    }
    return pcsFromUnitRowSum(sum, this.rows - zeros, zeros);
  }

  async cosineBlock(start: number, count: number): Promise<Float32Array> {
    if (start < 0 || count < 0 || start + count > this.rows) throw new RangeError(`row block [${start}, ${start + count}) is outside 0..${this.rows}`);
    if (count === 0) return new Float32Array(0);
    const { device } = this.ctx;
    const rowBytes = this.cols * 4;
    const block = outputBuffer(device, count * rowBytes, 'cosine block rows');
    const encoder = device.createCommandEncoder();
    // Gather the block's rows from whichever tiles hold them, on the device.
    for (const tile of this.tiles) {
      const from = Math.max(start, tile.firstRow);
      const to = Math.min(start + count, tile.firstRow + tile.rows);
      if (from >= to) continue;
      encoder.copyBufferToBuffer(tile.buffer, (from - tile.firstRow) * rowBytes, block, (from - start) * rowBytes, (to - from) * rowBytes);
    }
    const { cosine, transient } = await encodeCosineBlock(device, encoder, block, count, this.cols);
    const [result] = await submitAndRead(device, encoder, [{ buffer: cosine, floats: count * count }]);
    destroyAll([block, ...transient]);
    return result as Float32Array;
  }

  async multiply(b: Float32Array, l: number): Promise<Float32Array> {
    const { device } = this.ctx;
    const bBuffer = storageBuffer(device, b, 'panel');
    const out = new Float32Array(this.rows * l);
    for (const tile of this.tiles) {
      const encoder = device.createCommandEncoder();
      const { c, transient } = await encodeMatmul(device, encoder, tile.buffer, bBuffer, tile.rows, this.cols, l, false);
      const [part] = await submitAndRead(device, encoder, [{ buffer: c, floats: tile.rows * l }]);
      destroyAll(transient);
      out.set(part as Float32Array, tile.firstRow * l);
    }
    bBuffer.destroy();
    return out;
  }

  async multiplyTransposed(b: Float32Array, l: number): Promise<Float32Array> {
    const { device } = this.ctx;
    const acc = new Float64Array(this.cols * l);
    for (const tile of this.tiles) {
      const encoder = device.createCommandEncoder();
      const bTile = storageBuffer(device, b.subarray(tile.firstRow * l, (tile.firstRow + tile.rows) * l), 'panel tile');
      const { c, transient } = await encodeMatmul(device, encoder, tile.buffer, bTile, this.cols, tile.rows, l, true);
      const [part] = await submitAndRead(device, encoder, [{ buffer: c, floats: this.cols * l }]);
      destroyAll([bTile, ...transient]);
      const p = part as Float32Array;
      for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) + (p[i] as number);
    }
    return Float32Array.from(acc);
  }

  release(): void {
    destroyAll(this.tiles.map((t) => t.buffer));
    this.tiles = [];
  }
}

/** The WebGPU backend over an acquired context. */
export function gpuBackend(ctx: GpuContext, options: GpuBackendOptions = {}): MatrixBackend {
  return {
    kind: 'webgpu',
    description: `WebGPU (${ctx.adapterName})`,
    holdsCopy: true, // queue.writeBuffer copies the data when called
    load: async (m) => GpuMatrix.upload(ctx, m, options),
  };
}
