import type { LoadedMatrix, MatrixBackend, StagedMatrix } from '../core/matrixBackend';
import { type RowMatrix, rowMatrix } from '../core/matrix';
import type { TensorInfo } from '../formats/safetensors';
import { decodeTensorRows, readTensorBytes, readTensorRows, tensorRowsShape } from '../formats/tensorReader';

/** One layer's matrix as read, and what was prepared from it while it was read. */
export interface ReadLayer<P> {
  /** rows x cols float32; valid until `load` (a staged matrix's values then belong to the backend). */
  readonly matrix: RowMatrix;
  readonly prepared: P;
  /** Makes the matrix resident on the backend (in place when staged); may start the next layer's read. */
  load(): Promise<LoadedMatrix>;
  /** Call once the kernels are done with the layer: nothing reads its values again. */
  done(): void;
}

export interface LayerReads<P> {
  /** Layer `index`'s matrix; call in order 0, 1, 2, ... */
  take(index: number): Promise<ReadLayer<P>>;
  /** Frees what a failed or cancelled scan left staged; reads in flight are left to finish unheard. */
  close(): void;
}

/**
 * A scan's layers, read one after another with the next read overlapping the current layer's work. How, by
 * what the backend does with a matrix (memory stays at a layer or two however deep the model):
 * - it stages (the page's WebAssembly kernels): the next layer's stored bytes are read meanwhile (half a
 *   float32 layer for F16 and BF16) and decoded straight into the backend's memory once the current layer
 *   is released, so the layer never also sits in a float32 array here;
 * - it holds a copy (WebGPU, the CLI's native worker): into one float32 buffer, free again once loaded;
 * - it computes on this thread (TypeScript, the CLI's native calls): after the kernels, into the same buffer
 *   (work queued meanwhile would only take turns with them);
 * - otherwise into two buffers in turn.
 * `prepare` runs on each matrix before the backend takes it (for unstaged reads, overlapping the previous
 * layer's kernels where those run on other threads).
 */
export function layerReads<P>(
  tensors: readonly TensorInfo[],
  rowsAxis: 0 | 1,
  backend: MatrixBackend,
  checkpoint: () => void,
  prepare: (m: RowMatrix) => P,
): LayerReads<P> {
  return backend.stage ? stagedReads(tensors, rowsAxis, backend, checkpoint, prepare) : bufferedReads(tensors, rowsAxis, backend, checkpoint, prepare);
}

function bufferedReads<P>(tensors: readonly TensorInfo[], rowsAxis: 0 | 1, backend: MatrixBackend, checkpoint: () => void, prepare: (m: RowMatrix) => P): LayerReads<P> {
  const { holdsCopy, computesOnCaller } = backend;
  const buffers: (Float32Array | undefined)[] = [undefined, undefined];
  const slot = (i: number) => (holdsCopy || computesOnCaller ? 0 : i % 2);
  const start = (i: number) => {
    const info = tensors[i];
    if (!info) return null;
    const read = readTensorRows(info, rowsAxis, checkpoint, buffers[slot(i)]).then(({ rows, cols, data }) => {
      buffers[slot(i)] = data;
      const matrix = rowMatrix(rows, cols, data);
      return { matrix, prepared: prepare(matrix) };
    });
    read.catch(() => undefined); // awaited by take; a failed prefetch must not go unhandled meanwhile
    return read;
  };
  let next = start(0);
  return {
    async take(index) {
      const read = next ?? start(index);
      if (!read) throw new RangeError(`no layer ${index} to read`);
      next = null;
      const { matrix, prepared } = await read;
      if (!holdsCopy && !computesOnCaller) next = start(index + 1);
      return {
        matrix,
        prepared,
        async load() {
          const loaded = await backend.load(matrix);
          if (holdsCopy) next = start(index + 1);
          return loaded;
        },
        done() {
          if (computesOnCaller && !holdsCopy) next = start(index + 1);
        },
      };
    },
    close() {
      next = null;
    },
  };
}

function stagedReads<P>(tensors: readonly TensorInfo[], rowsAxis: 0 | 1, backend: MatrixBackend, checkpoint: () => void, prepare: (m: RowMatrix) => P): LayerReads<P> {
  const stage = (backend.stage as NonNullable<MatrixBackend['stage']>).bind(backend);
  let raw: Uint8Array | undefined;
  let staged: StagedMatrix | null = null;
  const start = (i: number) => {
    const info = tensors[i];
    if (!info) return null;
    const read = readTensorBytes(info, checkpoint, raw).then((bytes) => (raw = bytes));
    read.catch(() => undefined);
    return read;
  };
  let next = start(0);
  return {
    async take(index) {
      const info = tensors[index];
      const read = next ?? start(index);
      if (!info || !read) throw new RangeError(`no layer ${index} to read`);
      next = null;
      const bytes = await read;
      checkpoint();
      const { rows, cols } = tensorRowsShape(info, rowsAxis);
      const room = stage(rows, cols);
      staged = room;
      decodeTensorRows(info, rowsAxis, bytes, room.view());
      // The bytes are decoded: the next layer's read may reuse their buffer.
      next = start(index + 1);
      // The view is taken anew at each use: allocations on the backend (an exact diff, the keys' statistics)
      // may grow an unshared memory and empty an older view. Each use makes a view, so a loop takes it once.
      const matrix: RowMatrix = {
        rows,
        cols,
        get data() {
          return room.view();
        },
      };
      const prepared = prepare(matrix);
      return {
        matrix,
        prepared,
        async load() {
          staged = null;
          return room.load();
        },
        done() {},
      };
    },
    close() {
      staged?.discard();
      staged = null;
      next = null;
    },
  };
}
