import { encodeDispatch, outputBuffer, paramsBuffer } from '../buffers';
import { computePipeline } from '../pipelineCache';

export const PCS_CHUNK_ROWS = 256;

export interface PcsTileOutputs {
  inverseNorms: GPUBuffer;
  partialSums: GPUBuffer;
  chunks: number;
  transient: GPUBuffer[];
}

/** Records both pcs passes over one row tile [rows x cols] (shaders/pcs_row_norms.wgsl, pcs_unit_row_sums.wgsl). */
export async function encodePcsTile(device: GPUDevice, encoder: GPUCommandEncoder, tile: GPUBuffer, rows: number, cols: number): Promise<PcsTileOutputs> {
  const [norms, sums] = await Promise.all([
    computePipeline(device, 'pcsRowNorms'),
    computePipeline(device, 'pcsUnitRowSums', { CHUNK_ROWS: PCS_CHUNK_ROWS }),
  ]);
  const chunks = Math.ceil(rows / PCS_CHUNK_ROWS);
  const inverseNorms = outputBuffer(device, rows * 4, 'inverse norms');
  const partialSums = outputBuffer(device, chunks * cols * 4, 'unit row sums');
  const params = paramsBuffer(device, [rows, cols]);
  encodeDispatch(device, encoder, norms, [tile, inverseNorms, params], [Math.ceil(rows / 64)]);
  encodeDispatch(device, encoder, sums, [tile, inverseNorms, partialSums, params], [Math.ceil(cols / 64), chunks]);
  return { inverseNorms, partialSums, chunks, transient: [inverseNorms, partialSums, params] };
}

/** Records pass 1 alone: reciprocal row norms of a block (used by the cosine block). */
export async function encodeRowNorms(device: GPUDevice, encoder: GPUCommandEncoder, block: GPUBuffer, rows: number, cols: number): Promise<{ inverseNorms: GPUBuffer; params: GPUBuffer }> {
  const pipeline = await computePipeline(device, 'pcsRowNorms');
  const inverseNorms = outputBuffer(device, rows * 4, 'inverse norms');
  const params = paramsBuffer(device, [rows, cols]);
  encodeDispatch(device, encoder, pipeline, [block, inverseNorms, params], [Math.ceil(rows / 64)]);
  return { inverseNorms, params };
}
