import type * as Ort from 'onnxruntime-web';
import { type MatrixBackend, pcsByProduct, productBackend } from '../core/matrixBackend';
import { multiply, multiplyTransposed } from '../core/matmul';
import type { RowMatrix } from '../core/matrix';
import { type PairwiseCosineResult, pairwiseCosine } from '../core/pairwiseCosine';
import { gemmModel, rowSumSquaresModel } from './onnx/productModels';

/** Products with fewer multiply-adds stay in TypeScript: a runtime call costs tens of microseconds. */
const WASM_MIN_WORK = 1 << 18;

type Session = Awaited<ReturnType<typeof Ort.InferenceSession.create>>;

/**
 * The CPU backend with its matrix products on onnxruntime-web's wasm kernels (SIMD, and threads in a
 * cross-origin isolated page): the page's CPU path, 10-30x the plain TypeScript products on the same cores
 * (`npm run bench`). pcs uses the reference's identity with both passes in wasm; the cosine heatmap's small
 * blocks stay in TypeScript. Runs are queued: a runtime's sessions must not run concurrently.
 */
export function wasmMatrixBackend(ort: typeof Ort, options: { threads?: number; minWork?: number } = {}): MatrixBackend {
  const minWork = options.minWork ?? WASM_MIN_WORK;
  const threads = options.threads ?? ort.env.wasm.numThreads ?? 1;
  const sessions = new Map<string, Promise<Session>>();
  let queue: Promise<unknown> = Promise.resolve();
  const session = (key: string, model: () => Uint8Array) => {
    let s = sessions.get(key);
    if (!s) {
      s = ort.InferenceSession.create(model(), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
      sessions.set(key, s);
    }
    return s;
  };
  const run = (key: string, model: () => Uint8Array, feeds: Record<string, Ort.Tensor>): Promise<Float32Array> => {
    const next = queue.then(async () => {
      const out = (await (await session(key, model)).run(feeds))['c'];
      if (!out) throw new Error('the wasm kernel returned no output');
      return out.data as Float32Array;
    });
    queue = next.catch(() => undefined);
    return next;
  };
  // op(A) B: A stored [k x m] when transA, else [m x k]; B [k x n]. Small products stay in TypeScript.
  const product = async (a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA: 0 | 1): Promise<Float32Array> => {
    if (m * k * n === 0 || m * k * n < minWork) return transA ? multiplyTransposed(a, k, m, b, n) : multiply(a, m, k, b, n);
    return run(`gemm${transA}`, () => gemmModel(transA, 0), { a: new ort.Tensor('float32', a, transA ? [k, m] : [m, k]), b: new ort.Tensor('float32', b, [k, n]) });
  };
  const pcs = async (m: RowMatrix): Promise<PairwiseCosineResult> => {
    if (m.rows * m.cols < minWork) return pairwiseCosine(m);
    return pcsByProduct(m, await run('sumsq', rowSumSquaresModel, { a: new ort.Tensor('float32', m.data, [m.rows, m.cols]) }), product);
  };
  return productBackend(`CPU (wasm kernels, onnxruntime-web, ${threads} thread${threads > 1 ? 's' : ''})`, product, pcs);
}
