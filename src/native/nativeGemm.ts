import { type GemmNT, gemmNTReference } from '../core/gemm';
import { GraphBuilder } from '../lm/onnx/graphBuilder';
import { encodeModel, OnnxType } from '../lm/onnx/onnxModel';
import { nativeRuntime } from './onnxRuntimeNode';

/** Products smaller than this many multiply-adds stay in TypeScript: a native call costs ~15 us. */
const NATIVE_MIN_WORK = 1 << 15;

/** The ONNX model of one product: Gemm(A, B, transB = 1) = A B^T, every size symbolic. */
function gemmModel(): Uint8Array {
  const g = new GraphBuilder();
  const a = g.input('a', OnnxType.FLOAT, ['m', 'k']);
  const b = g.input('b', OnnxType.FLOAT, ['n', 'k']);
  g.op('Gemm', [a, b], { transB: 1 }, { name: 'c' });
  g.output('c', OnnxType.FLOAT, ['m', 'n']);
  return encodeModel(g.model('gemm_nt', [{ domain: '', version: 17 }]).model);
}

/**
 * C (+)= A B^T on onnxruntime-node's CPU kernels (MLAS: AVX2/AVX-512 where the processor has them), called
 * synchronously so the engine's ops can use it as they are. Null when the native runtime is missing.
 * One instance per thread (each worker thread installs its own); `threads` is its intra-op thread count.
 */
export function nativeGemmNT(threads = 1): GemmNT | null {
  const runtime = nativeRuntime();
  if (!runtime) return null;
  const session = runtime.session(gemmModel(), threads);
  // The binding refuses views of a SharedArrayBuffer (the trainer's parameters): such operands are copied.
  const scratch = [new Float32Array(0), new Float32Array(0)];
  const operand = (x: Float32Array, size: number, slot: 0 | 1): Float32Array => {
    if (!(x.buffer instanceof SharedArrayBuffer)) return x.subarray(0, size);
    if ((scratch[slot] as Float32Array).length < size) scratch[slot] = new Float32Array(size);
    const copy = (scratch[slot] as Float32Array).subarray(0, size);
    copy.set(x.subarray(0, size));
    return copy;
  };
  return (a, m, k, b, n, c, accumulate = false) => {
    if (m * n * k < NATIVE_MIN_WORK || m === 0 || n === 0 || k === 0) {
      gemmNTReference(a, m, k, b, n, c, accumulate);
      return;
    }
    const out = session.run({ a: new runtime.Tensor('float32', operand(a, m * k, 0), [m, k]), b: new runtime.Tensor('float32', operand(b, n * k, 1), [n, k]) }, { c: null }, {}).c;
    if (!out) throw new Error('native GEMM returned no output');
    const data = out.data;
    if (accumulate) for (let i = 0; i < m * n; i++) c[i] = (c[i] as number) + (data[i] as number);
    else c.set(data, 0);
  };
}
