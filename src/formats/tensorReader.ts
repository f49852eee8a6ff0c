import { bytesPerElement, decodeToFloat32, decodeTransposedToFloat32, isReadableDtype, type ReadableDtype } from './dtypes';
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

/** The matrix a 2-D tensor gives with `rowsAxis` as its rows (see readTensorRows), or a FormatError naming the tensor. */
export function tensorRowsShape(info: TensorInfo, rowsAxis: 0 | 1): { rows: number; cols: number; storedRows: number; storedRowBytes: number } {
  const file = info.source.name;
  if (!isReadableDtype(info.dtype)) {
    throw new FormatError(file, `unsupported dtype ${info.dtype} (readable: F32, F16, BF16)`, info.name);
  }
  if (info.shape.length !== 2) throw new FormatError(file, `expected a 2-D matrix, found shape [${info.shape.join(', ')}]`, info.name);
  const [d0, d1] = info.shape as [number, number];
  return { rows: rowsAxis === 0 ? d0 : d1, cols: rowsAxis === 0 ? d1 : d0, storedRows: d0, storedRowBytes: d1 * bytesPerElement(info.dtype) };
}

/**
 * Reads a 2-D tensor as float32 rows, where `rowsAxis` names the stored axis that indexes the rows we want:
 * 0 keeps the layout, 1 transposes while decoding (GPT-J/Llama store d_ff along axis 1). Reads in chunks of
 * at most 4 MB (into one reused buffer where the source allows) so the raw bytes never sit in memory whole. `reuse`, when large enough, receives the values
 * (a scan reuses one buffer for every layer instead of leaving a layer's worth of garbage per layer).
 */
export async function readTensorRows(info: TensorInfo, rowsAxis: 0 | 1, checkpoint?: () => void, reuse?: Float32Array): Promise<Float32Rows> {
  const { rows, cols, storedRows, storedRowBytes } = tensorRowsShape(info, rowsAxis);
  const data = reuse && reuse.length >= rows * cols ? reuse.subarray(0, rows * cols) : new Float32Array(rows * cols);
  const storedRowsPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / Math.max(1, storedRowBytes)));
  checkpoint?.();
  let r0 = 0;
  for await (const bytes of readSpans(info.source, info.begin, storedRows * storedRowBytes, storedRowsPerChunk * storedRowBytes)) {
    checkpoint?.();
    const count = Math.min(storedRowsPerChunk, storedRows - r0);
    decodeStoredRows(info, rowsAxis, bytes, r0, count, data);
    r0 += count;
  }
  return { rows, cols, data };
}

/**
 * A 2-D tensor's bytes as stored, read in spans of at most 4 MB into `reuse` when it is large enough: a scan
 * holds the next layer this way (half a float32 layer for F16 and BF16) while the kernels work on the current.
 */
export async function readTensorBytes(info: TensorInfo, checkpoint?: () => void, reuse?: Uint8Array): Promise<Uint8Array> {
  const { storedRows, storedRowBytes } = tensorRowsShape(info, 0);
  const length = storedRows * storedRowBytes;
  const out = reuse && reuse.length >= length ? reuse.subarray(0, length) : new Uint8Array(length);
  checkpoint?.();
  let at = 0;
  for await (const bytes of readSpans(info.source, info.begin, length, CHUNK_BYTES)) {
    checkpoint?.();
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

/** Decodes what readTensorBytes read into `out` as readTensorRows would have (rows x cols float32). */
export function decodeTensorRows(info: TensorInfo, rowsAxis: 0 | 1, bytes: Uint8Array, out: Float32Array): void {
  const { rows, cols, storedRows, storedRowBytes } = tensorRowsShape(info, rowsAxis);
  if (bytes.length !== storedRows * storedRowBytes || out.length < rows * cols) throw new RangeError(`decodeTensorRows: ${bytes.length} bytes into ${out.length} values for ${info.name} [${info.shape.join(', ')}]`);
  // In the same chunks as a read, so the transposing decode walks tiles of the same size.
  const storedRowsPerChunk = Math.max(1, Math.floor(CHUNK_BYTES / Math.max(1, storedRowBytes)));
  for (let r0 = 0; r0 < storedRows; r0 += storedRowsPerChunk) {
    const count = Math.min(storedRowsPerChunk, storedRows - r0);
    decodeStoredRows(info, rowsAxis, bytes.subarray(r0 * storedRowBytes, (r0 + count) * storedRowBytes), r0, count, out);
  }
}

/** Stored rows [r0, r0 + count) of a 2-D tensor, their bytes given, into the float32 result. */
function decodeStoredRows(info: TensorInfo, rowsAxis: 0 | 1, bytes: Uint8Array, r0: number, count: number, out: Float32Array): void {
  const dtype = info.dtype as ReadableDtype;
  const [d0, d1] = info.shape as [number, number];
  if (rowsAxis === 0) decodeToFloat32(dtype, bytes, out, r0 * d1);
  // Stored row r0 + i is column r0 + i of the result, decoded straight from the bytes, tile by tile.
  else decodeTransposedToFloat32(dtype, bytes, count, d1, out, d0, r0);
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
