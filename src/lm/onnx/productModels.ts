import { GraphBuilder } from './graphBuilder';
import { encodeModel, OnnxType } from './onnxModel';

/**
 * ONNX models of the matrix kernels that run on a runtime's CPU kernels (onnxruntime-node's MLAS in the CLI,
 * onnxruntime-web's wasm SIMD in the page): every size symbolic, so one session serves every shape.
 */

/** Gemm(A, B) with the given transposes: op(A) [m x k] times op(B) [k x n]. */
export function gemmModel(transA: 0 | 1, transB: 0 | 1): Uint8Array {
  const g = new GraphBuilder();
  const a = g.input('a', OnnxType.FLOAT, transA ? ['k', 'm'] : ['m', 'k']);
  const b = g.input('b', OnnxType.FLOAT, transB ? ['n', 'k'] : ['k', 'n']);
  g.op('Gemm', [a, b], { transA, transB }, { name: 'c' });
  g.output('c', OnnxType.FLOAT, ['m', 'n']);
  return encodeModel(g.model('gemm', [{ domain: '', version: 17 }]).model);
}

/** Every row's sum of squares: ReduceSumSquare over axis 1 of A [n x d]. */
export function rowSumSquaresModel(): Uint8Array {
  const g = new GraphBuilder();
  const a = g.input('a', OnnxType.FLOAT, ['n', 'd']);
  g.op('ReduceSumSquare', [a, g.constInt64([1])], { keepdims: 0 }, { name: 'c' });
  g.output('c', OnnxType.FLOAT, ['n']);
  return encodeModel(g.model('row_sum_squares', [{ domain: '', version: 18 }]).model);
}
