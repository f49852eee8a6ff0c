import type { LoadedMatrix, MatrixBackend } from '../core/matrixBackend';
import { rowMatrix } from '../core/matrix';
import { cosineBlock, pcsFromUnitRowSum, unitRowWeights } from '../core/pairwiseCosine';
import { localKernelThread, type KernelThread } from './kernelThreads';
import { ResidentKernels } from './residentKernels';

/**
 * Rows of A per pass of gemmTN: its 8-column strip stays in L1 while the columns of B go by. Measured on one
 * thread: 16 rows 59-61 GFLOP/s, 64 rows 44-48 (14336 x 4096 and 6400 x 1600; gemmNT 50-56 on the same).
 */
const CHUNK_ROWS = 16;
/** Products with fewer multiply-adds run in one thread: a message round trip costs tens of microseconds. */
const SPLIT_MIN_WORK = 1 << 22;

const roundUp = (x: number, to: number) => Math.ceil(x / to) * to;

/**
 * The CPU backend on the WebAssembly SIMD kernels (shaders/gemm.wat), each loaded matrix copied once into
 * their memory (rows padded with zeros to a multiple of 8 floats): randomized SVD's products and pcs move
 * only their small panels, and the caller's array is free once `load` returns (a scan reads the next layer
 * into it meanwhile). With a shared memory, `threads` (workers) each take a block of rows of every product
 * in place; the page's CPU path. Memory: the matrix once, however many products run on it.
 */
export function residentMatrixBackend(kernels = new ResidentKernels(), threads: KernelThread[] = [localKernelThread(kernels.exports)], options: { splitMinWork?: number } = {}): MatrixBackend {
  if (threads.length === 0) throw new Error('a resident backend needs at least one kernel thread');
  const n = threads.length;
  const splitMinWork = options.splitMinWork ?? SPLIT_MIN_WORK;
  const here = localKernelThread(kernels.exports);
  const backend: MatrixBackend = {
    kind: 'cpu',
    description: `CPU (WebAssembly SIMD kernels, ${n} thread${n > 1 ? 's' : ''})`,
    holdsCopy: true,
    async load(m) {
      const { rows, cols } = m;
      const stride = strideOf(cols);
      const a = kernels.alloc(rows * stride * 4);
      {
        const view = kernels.view(a, rows * stride);
        if (stride === cols) view.set(m.data.subarray(0, rows * cols));
        else for (let i = 0; i < rows; i++) view.set(m.data.subarray(i * cols, (i + 1) * cols), i * stride);
      }
      return resident(a, rows, cols, stride);
    },
    stage(rows, cols) {
      const stride = strideOf(cols);
      // Room for the padded layout; the caller fills the first rows x cols values densely.
      const a = kernels.alloc(rows * stride * 4);
      let spent = false;
      const usable = () => {
        if (spent) throw new Error('the staged matrix was already loaded or discarded');
      };
      return {
        rows,
        cols,
        view() {
          usable();
          return kernels.view(a, rows * cols);
        },
        async load() {
          usable();
          spent = true;
          if (stride !== cols) {
            // Dense rows to padded ones in place, last row first: row i moves up to i * stride, past the end of
            // row i - 1's values, and its padding (which may hold row i + 1's old values) becomes zeros.
            const view = kernels.view(a, rows * stride);
            for (let i = rows - 1; i >= 0; i--) {
              view.copyWithin(i * stride, i * cols, (i + 1) * cols);
              view.fill(0, i * stride + cols, (i + 1) * stride);
            }
          }
          return resident(a, rows, cols, stride);
        },
        discard() {
          if (spent) return;
          spent = true;
          kernels.free(a);
        },
      };
    },
  };
  return backend;

  /** The kernels' handle on a matrix at `a`, rows padded to `stride` floats with zeros. */
  function resident(a: number, rows: number, cols: number, stride: number): LoadedMatrix {
    let released = false;
    const live = () => {
      if (released) throw new Error('the matrix was released');
    };
    // Blocks of rows, one per thread (one block when the work is small).
    const blocks = (work: number) => {
      const parts = work >= splitMinWork ? n : 1;
      return Array.from({ length: parts }, (_, t) => ({ thread: parts === 1 ? here : (threads[t] as KernelThread), first: Math.round((t * rows) / parts), end: Math.round(((t + 1) * rows) / parts) }));
    };
    // A^T B for B [rows x l], each block's part summed: C^T [lp x stride] per block.
    const transposed = async (fill: (panel: Float32Array, lp: number) => void, l: number): Promise<Float32Array> => {
      const lp = roundUp(Math.max(l, 1), 4);
      const parts = blocks(rows * stride * lp);
      const b = kernels.alloc(rows * lp * 4);
      const cts = parts.map(() => kernels.alloc(lp * stride * 4));
      try {
        fill(kernels.view(b, rows * lp), lp);
        await Promise.all(parts.map(({ thread, first, end }, t) => thread.run('gemmTN', [a + first * stride * 4, b + first * lp * 4, cts[t] as number, end - first, stride, lp, CHUNK_ROWS])));
        const sum = new Float64Array(cols * l);
        for (const ct of cts) {
          const c = kernels.view(ct, lp * stride);
          for (let j = 0; j < l; j++) for (let i = 0; i < cols; i++) sum[i * l + j] = (sum[i * l + j] as number) + (c[j * stride + i] as number);
        }
        return Float32Array.from(sum);
      } finally {
        kernels.free(b);
        for (const ct of cts) kernels.free(ct);
      }
    };
    const loaded: LoadedMatrix = {
      rows,
      cols,
      async multiply(b, l) {
        live();
        const lp = roundUp(Math.max(l, 1), 4);
        const bt = kernels.alloc(lp * stride * 4);
        const c = kernels.alloc(rows * lp * 4);
        try {
          // B^T, padded: the kernel takes both operands as rows.
          const panel = kernels.view(bt, lp * stride);
          for (let i = 0; i < cols; i++) for (let j = 0; j < l; j++) panel[j * stride + i] = b[i * l + j] as number;
          await Promise.all(blocks(rows * stride * lp).map(({ thread, first, end }) => thread.run('gemmNT', [a + first * stride * 4, bt, c + first * lp * 4, end - first, lp, stride, 0])));
          const out = new Float32Array(rows * l);
          const result = kernels.view(c, rows * lp);
          for (let i = 0; i < rows; i++) for (let j = 0; j < l; j++) out[i * l + j] = result[i * lp + j] as number;
          return out;
        } finally {
          kernels.free(bt);
          kernels.free(c);
        }
      },
      async multiplyTransposed(b, l) {
        live();
        return transposed((panel, lp) => {
          for (let i = 0; i < rows; i++) for (let j = 0; j < l; j++) panel[i * lp + j] = b[i * l + j] as number;
        }, l);
      },
      async pairwiseCosine() {
        live();
        const sums = kernels.alloc(rows * 4);
        let squares: Float32Array;
        try {
          await Promise.all(blocks(rows * stride).map(({ thread, first, end }) => thread.run('rowSumSquares', [a + first * stride * 4, sums + first * 4, end - first, stride])));
          squares = kernels.view(sums, rows).slice();
        } finally {
          kernels.free(sums);
        }
        const { weights, zeros } = unitRowWeights(squares);
        const sum = await transposed((panel, lp) => {
          for (let i = 0; i < rows; i++) panel[i * lp] = weights[i] as number;
        }, 1);
        return pcsFromUnitRowSum(Float64Array.from(sum), rows - zeros, zeros);
      },
      async cosineBlock(start, count) {
        live();
        if (start < 0 || count < 0 || start + count > rows) throw new RangeError(`row block [${start}, ${start + count}) is outside 0..${rows}`);
        const block = new Float32Array(count * cols);
        const view = kernels.view(a, rows * stride);
        for (let i = 0; i < count; i++) block.set(view.subarray((start + i) * stride, (start + i) * stride + cols), i * cols);
        return cosineBlock(rowMatrix(count, cols, block), 0, count);
      },
      release() {
        if (released) return;
        released = true;
        kernels.free(a);
      },
    };
    return loaded;
  }
}

/**
 * Rows padded to a multiple of 8 floats, and off a multiple of 4 KiB: a power-of-two stride maps the rows the
 * kernels walk down to the same few cache sets (measured 1.3-1.5x slower at 4096 columns).
 */
function strideOf(cols: number): number {
  const padded = roundUp(Math.max(cols, 1), 8);
  return (padded * 4) % 4096 === 0 ? padded + 8 : padded;
}
