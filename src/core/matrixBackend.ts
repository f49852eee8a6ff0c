import type { RowMatrix } from './matrix';
import { cosineBlock, type PairwiseCosineResult, pairwiseCosine, pcsFromUnitRowSum, unitRowWeights } from './pairwiseCosine';
import { cpuOperator, type LinearOperator } from './randomizedSvd';

/**
 * One matrix made resident on a backend, with the kernels the analyses run on it. The CPU backend below is
 * the reference; the WebGPU one (src/gpu) must agree with it on the shared case table in tests.
 */
export interface LoadedMatrix extends LinearOperator {
  pairwiseCosine(): Promise<PairwiseCosineResult>;
  /** Cosine matrix of rows [start, start + count). */
  cosineBlock(start: number, count: number): Promise<Float32Array>;
  /** Frees device memory; the handle is unusable afterwards. */
  release(): void;
}

export interface MatrixBackend {
  readonly kind: 'cpu' | 'webgpu';
  /** Human-readable, e.g. "WebGPU (google swiftshader)". */
  readonly description: string;
  /** True when `load` copies the matrix (device memory, a kernel heap): the caller may reuse its array once `load` returns. */
  readonly holdsCopy?: boolean;
  /**
   * True when the kernels run synchronously on the calling thread (TypeScript, the CLI's native calls): work
   * queued for meanwhile only takes turns with them, so a scan reads the next layer afterwards, into the same
   * buffer (one layer less in memory; measured on the GPT-2 XL shape: no slower).
   */
  readonly computesOnCaller?: boolean;
  load(m: RowMatrix): Promise<LoadedMatrix>;
  /**
   * Optional: room for a rows x cols matrix in the backend's own memory, filled by the caller and then made
   * resident in place. A scan decodes a layer's stored bytes straight into it, so the layer never also sits
   * in a float32 array of the caller's (one layer less than `load`).
   */
  stage?(rows: number, cols: number): StagedMatrix;
}

/** A matrix being filled in a backend's memory (see MatrixBackend.stage). */
export interface StagedMatrix {
  readonly rows: number;
  readonly cols: number;
  /**
   * The values, rows x cols row-major, zero at first. Take it anew after anything that may allocate on the
   * backend (an unshared WebAssembly memory that grows replaces its buffer and empties old views).
   */
  view(): Float32Array;
  /** Makes the values resident where they are; the staging is spent. */
  load(): Promise<LoadedMatrix>;
  /** Frees the room without loading (a failed or cancelled read). */
  discard(): void;
}

export const cpuBackend: MatrixBackend = {
  kind: 'cpu',
  description: 'CPU (plain TypeScript)',
  computesOnCaller: true,
  async load(m) {
    const op = cpuOperator(m);
    return {
      ...op,
      pairwiseCosine: async () => pairwiseCosine(m),
      cosineBlock: async (start, count) => cosineBlock(m, start, count),
      release: () => undefined,
    };
  },
};

/** op(A) B with A stored [m x k] (or [k x m] when transA) and B [k x n], row-major: a CPU backend's products. */
export type ProductKernel = (a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA: 0 | 1) => Float32Array | Promise<Float32Array>;

/**
 * A CPU backend whose products (randomized SVD's A B and A^T B) run on `product` (native or wasm kernels)
 * and whose pcs is `pcs`; the cosine heatmap's small blocks stay in the reference.
 */
export function productBackend(
  description: string,
  product: ProductKernel,
  pcs: (m: RowMatrix) => PairwiseCosineResult | Promise<PairwiseCosineResult>,
  computesOnCaller = false,
): MatrixBackend {
  return {
    kind: 'cpu',
    description,
    computesOnCaller,
    async load(m) {
      return {
        rows: m.rows,
        cols: m.cols,
        multiply: async (b, l) => product(m.data, b, m.rows, m.cols, l, 0),
        multiplyTransposed: async (b, l) => product(m.data, b, m.cols, m.rows, l, 1),
        pairwiseCosine: async () => pcs(m),
        cosineBlock: async (start, count) => cosineBlock(m, start, count),
        release: () => undefined,
      };
    },
  };
}

/**
 * pcs by the reference's identity with both passes on a backend's kernels: the rows' sums of squares
 * (given), then the reciprocal norms times the matrix (a 1 x n by n x d product) for the sum of unit rows.
 */
export async function pcsByProduct(m: RowMatrix, rowSumSquares: ArrayLike<number>, product: ProductKernel): Promise<PairwiseCosineResult> {
  const { weights, zeros } = unitRowWeights(rowSumSquares);
  const sum = Float64Array.from(await product(weights, m.data, 1, m.rows, m.cols, 0));
  return pcsFromUnitRowSum(sum, m.rows - zeros, zeros);
}
