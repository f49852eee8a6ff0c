import { parentPort, workerData } from 'node:worker_threads';
import { nativeProducts } from './nativeGemm';

/**
 * The CLI's kernel thread (src/native/nativeWorkerBackend): holds loaded matrices and runs native products
 * on them, so the main thread reads, decodes and screens the next layer meanwhile. Requests carry an id;
 * every reply names it, with a result (transferred) or an error.
 */
interface Request {
  id: number;
  op: 'load' | 'multiply' | 'multiplyTransposed' | 'rowSumSquares' | 'rows' | 'release';
  matrix: number;
  rows?: number;
  cols?: number;
  data?: Float32Array;
  b?: Float32Array;
  l?: number;
  start?: number;
  count?: number;
}

const products = nativeProducts((workerData as { threads: number }).threads);
const matrices = new Map<number, { rows: number; cols: number; data: Float32Array }>();

function handle(r: Request): Float32Array | null {
  if (!products) throw new Error('the native runtime did not load in the kernel thread');
  if (r.op === 'load') {
    matrices.set(r.matrix, { rows: r.rows as number, cols: r.cols as number, data: r.data as Float32Array });
    return null;
  }
  if (r.op === 'release') {
    matrices.delete(r.matrix);
    return null;
  }
  const m = matrices.get(r.matrix);
  if (!m) throw new Error(`matrix ${r.matrix} is not loaded (released?)`);
  switch (r.op) {
    case 'multiply':
      return products.product(m.data, r.b as Float32Array, m.rows, m.cols, r.l as number, 0, 0);
    case 'multiplyTransposed':
      return products.product(m.data, r.b as Float32Array, m.cols, m.rows, r.l as number, 1, 0);
    case 'rowSumSquares':
      return products.rowSumSquares(m.data, m.rows, m.cols);
    case 'rows':
      return m.data.slice((r.start as number) * m.cols, ((r.start as number) + (r.count as number)) * m.cols);
  }
}

parentPort?.on('message', (r: Request) => {
  try {
    const result = handle(r);
    // A result that is a view of a larger buffer (the runtime's output) is copied so it can be transferred.
    const out = result && (result.byteOffset !== 0 || result.byteLength !== result.buffer.byteLength) ? result.slice() : result;
    parentPort?.postMessage({ id: r.id, result: out }, out ? [out.buffer as ArrayBuffer] : []);
  } catch (e) {
    parentPort?.postMessage({ id: r.id, error: e instanceof Error ? e.message : String(e) });
  }
});
