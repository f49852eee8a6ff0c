import { bytesPerElement, decodeToFloat32, decodeTransposedToFloat32, isReadableDtype } from './dtypes';
import { readSpans } from './byteSource';
import { FormatError } from './formatError';
import type { TensorInfo } from './safetensors';

/** Largest span read at once: bounds the raw bytes held beside the float32 result. */
const CHUNK_BYTES = 4 * 1024 * 1024;

export interface Float32Rows {
  rows: number;
  cols: number;
  data: Float32Array;
}

/**
 * Reads a 2-D tensor as float32 rows, where `rowsAxis` names the stored axis that indexes the rows we want:
 * 0 keeps the layout, 1 transposes while decoding (GPT-J/Llama store d_ff along axis 1). Reads in chunks of
 * at most 4 MB (into one reused buffer where the source allows) so the raw bytes never sit in memory whole. `reuse`, when large enough, receives the values
 * (a scan reuses one buffer for every layer instead of leaving a layer's worth of garbage per layer).
 */
export async function readTensorRows(info: TensorInfo, rowsAxis: 0 | 1, checkpoint?: () => void, reuse?: Float32Array): Promise<Float32Rows> {
  const file = info.source.name;
  if (!isReadableDtype(info.dtype)) {
    throw new FormatError(file, `unsupported dtype ${info.dtype} (readable: F32, F16, BF16)`, info.name);
  }
  if (info.shape.length !== 2) throw new FormatError(file, `expected a 2-D matrix, found shape [${info.shape.join(', ')}]`, info.name);
  const [d0, d1] = info.shape as [number, number];
  const size = bytesPerElement(info.dtype);
  const rows = rowsAxis === 0 ? d0 : d1;
  const cols = rowsAxis === 0 ? d1 : d0;
  const data = reuse && reuse.length >= rows * cols ? reuse.subarray(0, rows * cols) : new Float32Array(rows * cols);
  const storedRowBytes = d1 * size;
  const storedRowsPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / Math.max(1, storedRowBytes)));
  checkpoint?.();
  let r0 = 0;
  for await (const bytes of readSpans(info.source, info.begin, d0 * storedRowBytes, storedRowsPerChunk * storedRowBytes)) {
    checkpoint?.();
    const count = Math.min(storedRowsPerChunk, d0 - r0);
    if (rowsAxis === 0) {
      decodeToFloat32(info.dtype, bytes, data, r0 * d1);
    } else {
      // Stored row r0 + i is column r0 + i of the result, decoded straight from the bytes, tile by tile.
      decodeTransposedToFloat32(info.dtype, bytes, count, d1, data, cols, r0);
    }
    r0 += count;
  }
  return { rows, cols, data };
}

/** Reads a 1-D tensor (a norm's gain, a bias) of `length` values as float32, refusing any other shape. */
export async function readTensorVector(info: TensorInfo, length: number): Promise<Float32Array> {
  const file = info.source.name;
  if (!isReadableDtype(info.dtype)) throw new FormatError(file, `unsupported dtype ${info.dtype} (readable: F32, F16, BF16)`, info.name);
  if (info.shape.length !== 1 || info.shape[0] !== length) throw new FormatError(file, `expected a vector of ${length} values, found shape [${info.shape.join(', ')}]`, info.name);
  const out = new Float32Array(length);
  for await (const bytes of readSpans(info.source, info.begin, length * bytesPerElement(info.dtype), length * bytesPerElement(info.dtype))) decodeToFloat32(info.dtype, bytes, out, 0);
  return out;
}
