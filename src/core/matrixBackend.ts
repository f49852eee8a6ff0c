import type { RowMatrix } from './matrix';
import { cosineBlock, type PairwiseCosineResult, pairwiseCosine } from './pairwiseCosine';
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
  load(m: RowMatrix): Promise<LoadedMatrix>;
}

export const cpuBackend: MatrixBackend = {
  kind: 'cpu',
  description: 'CPU (plain TypeScript)',
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
