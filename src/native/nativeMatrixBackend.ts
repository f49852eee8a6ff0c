import type { MatrixBackend } from '../core/matrixBackend';
import type { RowMatrix } from '../core/matrix';
import { cosineBlock, type PairwiseCosineResult, pcsFromUnitRowSum, unitRowWeights } from '../core/pairwiseCosine';
import { nativeProducts } from './nativeGemm';

/**
 * The CPU backend with its matrix products (randomized SVD's thin products A B and A^T B) on native kernels:
 * the CLI's default. pcs and cosine blocks are O(rows x cols) passes and stay in TypeScript. Null without the
 * native runtime (the caller falls back to the TypeScript backend).
 */
/**
 * pcs by the same identity as the reference (core/pairwiseCosine), both passes native: the rows' sums of
 * squares, then the reciprocal norms times the matrix (a 1 x n by n x d product) for the sum of unit rows.
 */
function nativePairwiseCosine(products: NonNullable<ReturnType<typeof nativeProducts>>, m: RowMatrix): PairwiseCosineResult {
  const { weights, zeros } = unitRowWeights(products.rowSumSquares(m.data, m.rows, m.cols));
  const sum = Float64Array.from(products.product(weights, m.data, 1, m.rows, m.cols, 0, 0));
  return pcsFromUnitRowSum(sum, m.rows - zeros, zeros);
}

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
        pairwiseCosine: async () => nativePairwiseCosine(products, m),
        cosineBlock: async (start, count) => cosineBlock(m, start, count),
        release: () => undefined,
      };
    },
  };
}
