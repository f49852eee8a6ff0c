import { encodeDispatch, outputBuffer, paramsBuffer } from '../buffers';
import { computePipeline } from '../pipelineCache';

const TILE = 16;

/**
 * Records C = op(A) * B (shaders/matmul.wgsl): op(A) is [m x n]; with `transposeA` A is stored [n x m].
 * Returns C [m x l] and the buffers to free once the result is read.
 */
export async function encodeMatmul(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  a: GPUBuffer,
  b: GPUBuffer,
  m: number,
  n: number,
  l: number,
  transposeA: boolean,
): Promise<{ c: GPUBuffer; transient: GPUBuffer[] }> {
  const pipeline = await computePipeline(device, 'matmul', { TRANSPOSE_A: transposeA ? 1 : 0 });
  const c = outputBuffer(device, m * l * 4, 'matmul out');
  const params = paramsBuffer(device, [m, n, l]);
  encodeDispatch(device, encoder, pipeline, [a, b, c, params], [Math.ceil(l / TILE), Math.ceil(m / TILE)]);
  return { c, transient: [c, params] };
}
