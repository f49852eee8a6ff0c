import { type MatrixBackend, pcsByProduct, productBackend } from '../core/matrixBackend';
import { nativeProducts } from './nativeGemm';

/**
 * The CPU backend with its matrix products (randomized SVD's thin products A B and A^T B) and pcs's two
 * passes on native kernels: the CLI's default. Null without the native runtime (the caller falls back to the
 * TypeScript backend).
 */
export function nativeBackend(threads: number): MatrixBackend | null {
  const products = nativeProducts(threads);
  if (!products) return null;
  const product = (a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA: 0 | 1) => products.product(a, b, m, k, n, transA, 0);
  return productBackend(`CPU (native kernels, onnxruntime-node, ${threads} thread${threads > 1 ? 's' : ''})`, product, (m) => pcsByProduct(m, products.rowSumSquares(m.data, m.rows, m.cols), product), true);
}
