import { type GemmNT, gemmNTReference } from '../core/gemm';
import { gemmModel, rowSumSquaresModel } from '../lm/onnx/productModels';
import { type NativeRuntime, type NativeSession, nativeRuntime } from './onnxRuntimeNode';

/** Products smaller than this many multiply-adds stay in TypeScript: a native call costs ~15 us. */
const NATIVE_MIN_WORK = 1 << 15;

/**
 * Matrix products on onnxruntime-node's CPU kernels (MLAS: AVX2/AVX-512 where the processor has them), called
 * synchronously so the engine's ops can use them as they are. One instance per thread (each worker thread
 * makes its own); `threads` is its intra-op thread count.
 */
export class NativeProducts {
  private readonly sessions = new Map<string, NativeSession>();
  // The binding refuses views of a SharedArrayBuffer (the trainer's parameters): such operands are copied.
  private readonly scratch = [new Float32Array(0), new Float32Array(0)];

  constructor(
    private readonly runtime: NativeRuntime,
    private readonly threads: number,
  ) {}

  private session(transA: 0 | 1, transB: 0 | 1): NativeSession {
    const key = `${transA}${transB}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = this.runtime.session(gemmModel(transA, transB), this.threads);
      this.sessions.set(key, s);
    }
    return s;
  }

  private operand(x: Float32Array, size: number, slot: 0 | 1): Float32Array {
    if (!(x.buffer instanceof SharedArrayBuffer)) return x.subarray(0, size);
    if ((this.scratch[slot] as Float32Array).length < size) this.scratch[slot] = new Float32Array(size);
    const copy = (this.scratch[slot] as Float32Array).subarray(0, size);
    copy.set(x.subarray(0, size));
    return copy;
  }

  /** op(A) op(B) with op(A) [m x k] and op(B) [k x n]; A stored [k x m] when transA, B stored [n x k] when transB. */
  product(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA: 0 | 1, transB: 0 | 1): Float32Array {
    if (m * k * n === 0) return new Float32Array(m * n);
    const { Tensor } = this.runtime;
    const out = this.session(transA, transB).run(
      { a: new Tensor('float32', this.operand(a, m * k, 0), transA ? [k, m] : [m, k]), b: new Tensor('float32', this.operand(b, k * n, 1), transB ? [n, k] : [k, n]) },
      { c: null },
      {},
    ).c;
    if (!out) throw new Error('native GEMM returned no output');
    return out.data;
  }

  private sumSquares: NativeSession | null = null;

  /** Sum of squares of every row of A [n x d] (float32 accumulation in the native kernel). */
  rowSumSquares(a: Float32Array, n: number, d: number): Float32Array {
    if (n * d === 0) return new Float32Array(n);
    this.sumSquares ??= this.runtime.session(rowSumSquaresModel(), this.threads);
    const out = this.sumSquares.run({ a: new this.runtime.Tensor('float32', this.operand(a, n * d, 0), [n, d]) }, { c: null }, {}).c;
    if (!out) throw new Error('native ReduceSumSquare returned no output');
    return out.data;
  }

  /** The engine's contract: C (+)= A B^T. */
  readonly gemmNT: GemmNT = (a, m, k, b, n, c, accumulate = false) => {
    if (m * n * k < NATIVE_MIN_WORK || m === 0 || n === 0 || k === 0) {
      gemmNTReference(a, m, k, b, n, c, accumulate);
      return;
    }
    const data = this.product(a, b, m, k, n, 0, 1);
    if (accumulate) for (let i = 0; i < m * n; i++) c[i] = (c[i] as number) + (data[i] as number);
    else c.set(data, 0);
  };
}

/** Native products for this thread, or null when onnxruntime-node cannot be loaded here. */
export function nativeProducts(threads = 1): NativeProducts | null {
  const runtime = nativeRuntime();
  return runtime ? new NativeProducts(runtime, threads) : null;
}

/** The engine's GEMM on native kernels (null without the native runtime). */
export function nativeGemmNT(threads = 1): GemmNT | null {
  return nativeProducts(threads)?.gemmNT ?? null;
}
