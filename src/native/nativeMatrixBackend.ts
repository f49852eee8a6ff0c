import type { MatrixBackend } from '../core/matrixBackend';
import { cosineBlock, pairwiseCosine } from '../core/pairwiseCosine';
import { nativeProducts } from './nativeGemm';

/**
 * The CPU backend with its matrix products (randomized SVD's thin products A B and A^T B) on native kernels:
 * the CLI's default. pcs and cosine blocks are O(rows x cols) passes and stay in TypeScript. Null without the
 * native runtime (the caller falls back to the TypeScript backend).
 */
export function nativeBackend(threads: number): MatrixBackend | null {
  const products = nativeProducts(threads);
  if (!products) return null;
  return {
    kind: 'cpu',
    description: `CPU (native kernels, onnxruntime-node, ${threads} thread${threads > 1 ? 's' : ''})`,
    async load(m) {
      return {
        rows: m.rows,
        cols: m.cols,
        multiply: async (b, l) => products.product(m.data, b, m.rows, m.cols, l, 0, 0),
        multiplyTransposed: async (b, l) => products.product(m.data, b, m.cols, m.rows, l, 1, 0),
        pairwiseCosine: async () => pairwiseCosine(m),
        cosineBlock: async (start, count) => cosineBlock(m, start, count),
        release: () => undefined,
      };
    },
  };
}
