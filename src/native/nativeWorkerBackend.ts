import { Worker } from 'node:worker_threads';
import type { LoadedMatrix, MatrixBackend } from '../core/matrixBackend';
import { rowMatrix } from '../core/matrix';
import { cosineBlock, pcsFromUnitRowSum, unitRowWeights } from '../core/pairwiseCosine';
import { nativeRuntime } from './onnxRuntimeNode';

/** The TypeScript loader for the worker: the CLI registers it in-process, which worker threads do not inherit. */
const REGISTER = new URL('../../scripts/node-register.mjs', import.meta.url).href;

/**
 * The CLI's CPU backend: native products (onnxruntime-node, `threads` intra-op threads) in a worker thread
 * that holds each loaded matrix (a copy, moved to it), so the calling thread is free while they run: a scan
 * reads, decodes and screens the next layer meanwhile (the runtime's calls are synchronous, so on one
 * thread that work and the kernels took turns). Null without the native runtime.
 */
export function nativeWorkerBackend(threads: number): MatrixBackend | null {
  if (!nativeRuntime()) return null;
  let worker: Worker | null = null;
  let nextId = 1;
  const waiting = new Map<number, { resolve: (r: Float32Array | null) => void; reject: (e: Error) => void }>();
  const start = () => {
    const w = new Worker(new URL('./nativeKernelWorker.ts', import.meta.url), { workerData: { threads }, execArgv: ['--import', REGISTER] });
    w.on('message', ({ id, result, error }: { id: number; result?: Float32Array | null; error?: string }) => {
      const p = waiting.get(id);
      if (!p) return;
      waiting.delete(id);
      if (waiting.size === 0) w.unref(); // an idle kernel thread never keeps the process alive
      if (error !== undefined) p.reject(new Error(`native kernel thread: ${error}`));
      else p.resolve(result ?? null);
    });
    w.on('error', (e) => {
      for (const p of waiting.values()) p.reject(e instanceof Error ? e : new Error(String(e)));
      waiting.clear();
      worker = null;
    });
    w.unref();
    return w;
  };
  const call = (message: Record<string, unknown>, transfer: ArrayBuffer[] = []) =>
    new Promise<Float32Array | null>((resolve, reject) => {
      worker ??= start();
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, ...message }, transfer);
    });
  const result = async (message: Record<string, unknown>, transfer?: ArrayBuffer[]): Promise<Float32Array> => {
    const r = await call(message, transfer);
    if (!r) throw new Error('native kernel thread: no result');
    return r;
  };
  // A panel of the caller's, copied so it can be moved to the thread.
  const moved = (b: ArrayLike<number>) => {
    const copy = Float32Array.from(b);
    return { b: copy, transfer: [copy.buffer] };
  };
  let nextMatrix = 1;
  return {
    kind: 'cpu',
    description: `CPU (native kernels, onnxruntime-node, ${threads} thread${threads > 1 ? 's' : ''})`,
    holdsCopy: true,
    async load(m) {
      const { rows, cols } = m;
      const matrix = nextMatrix++;
      const data = m.data.slice(0, rows * cols);
      await call({ op: 'load', matrix, rows, cols, data }, [data.buffer]);
      let released = false;
      const live = () => {
        if (released) throw new Error('the matrix was released');
      };
      const loaded: LoadedMatrix = {
        rows,
        cols,
        async multiply(b, l) {
          live();
          const { b: panel, transfer } = moved(b);
          return result({ op: 'multiply', matrix, b: panel, l }, transfer);
        },
        async multiplyTransposed(b, l) {
          live();
          const { b: panel, transfer } = moved(b);
          return result({ op: 'multiplyTransposed', matrix, b: panel, l }, transfer);
        },
        async pairwiseCosine() {
          live();
          const { weights, zeros } = unitRowWeights(await result({ op: 'rowSumSquares', matrix }));
          const sum = await result({ op: 'multiplyTransposed', matrix, b: weights, l: 1 }, [weights.buffer as ArrayBuffer]);
          return pcsFromUnitRowSum(Float64Array.from(sum), rows - zeros, zeros);
        },
        async cosineBlock(startRow, count) {
          live();
          if (startRow < 0 || count < 0 || startRow + count > rows) throw new RangeError(`row block [${startRow}, ${startRow + count}) is outside 0..${rows}`);
          return cosineBlock(rowMatrix(count, cols, await result({ op: 'rows', matrix, start: startRow, count })), 0, count);
        },
        release() {
          if (released) return;
          released = true;
          void call({ op: 'release', matrix }).catch(() => undefined);
        },
      };
      return loaded;
    },
  };
}
