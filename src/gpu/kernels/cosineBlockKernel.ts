import { encodeDispatch, outputBuffer } from '../buffers';
import { computePipeline } from '../pipelineCache';
import { encodeRowNorms } from './pcsKernel';

const TILE = 16;

/** Records the cosine matrix of a block of rows [count x cols] already on the device (shaders/cosine_block.wgsl). */
export async function encodeCosineBlock(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  block: GPUBuffer,
  count: number,
  cols: number,
): Promise<{ cosine: GPUBuffer; transient: GPUBuffer[] }> {
  const { inverseNorms, params } = await encodeRowNorms(device, encoder, block, count, cols);
  const pipeline = await computePipeline(device, 'cosineBlock');
  const cosine = outputBuffer(device, count * count * 4, 'cosine block');
  encodeDispatch(device, encoder, pipeline, [block, inverseNorms, cosine, params], [Math.ceil(count / TILE), Math.ceil(count / TILE)]);
  return { cosine, transient: [inverseNorms, params, cosine] };
}
