import { transpose } from '../core/matrix';
import { BlobSource, type ByteSource } from './byteSource';
import { encodeFromFloat32, isReadableDtype } from './dtypes';
import { FormatError } from './formatError';
import type { TensorInfo } from './safetensors';

/** Largest span copied at once when a patched file is streamed. */
const CHUNK_BYTES = 4 * 1024 * 1024;

/** A file equal to `source` except one tensor's bytes: spans to copy and the replacement, in order. */
export interface PatchedFile {
  source: ByteSource;
  parts: ({ kind: 'copy'; begin: number; end: number } | { kind: 'bytes'; bytes: Uint8Array })[];
  size: number;
}

/**
 * Rows [d_ff x d_model] (the analyses' orientation) back into a tensor's stored layout: unchanged for
 * rowsAxis 0, transposed for rowsAxis 1 (nn.Linear's [d_model, d_ff]). The inverse of readTensorRows.
 */
export function toStoredLayout(rows: number, cols: number, data: Float32Array, rowsAxis: 0 | 1): Float32Array {
  return rowsAxis === 0 ? data : transpose(data, rows, cols);
}

/**
 * The same safetensors file with tensor `info` replaced by `stored` (values in its stored layout), encoded
 * in the tensor's own dtype: the header and every other byte stay identical, so the result is a valid
 * checkpoint that loads wherever the input did.
 */
export function patchTensor(info: TensorInfo, stored: Float32Array): PatchedFile {
  return patchTensors(info.source, [{ info, stored }]);
}

/** A file unchanged, as a patch with nothing replaced (copied whole by patchedChunks and patchedBlob). */
export function unpatched(source: ByteSource): PatchedFile {
  return { source, parts: [{ kind: 'copy', begin: 0, end: source.size }], size: source.size };
}

/** patchTensor for several tensors of one file (sequential edits in several layers). */
export function patchTensors(source: ByteSource, replacements: readonly { info: TensorInfo; stored: Float32Array }[]): PatchedFile {
  const file = source.name;
  const parts: PatchedFile['parts'] = [];
  let at = 0;
  for (const { info, stored } of [...replacements].sort((a, b) => a.info.begin - b.info.begin)) {
    if (info.source !== source) throw new FormatError(file, 'is not the file that holds this tensor', info.name);
    if (!isReadableDtype(info.dtype)) throw new FormatError(file, `cannot write dtype ${info.dtype} (F32, F16, BF16 only)`, info.name);
    const count = info.shape.reduce((a, b) => a * b, 1);
    if (stored.length !== count) throw new FormatError(file, `replacement has ${stored.length} values, the tensor holds ${count}`, info.name);
    const bytes = encodeFromFloat32(info.dtype, stored);
    if (bytes.length !== info.end - info.begin) throw new FormatError(file, `replacement is ${bytes.length} bytes, the tensor spans ${info.end - info.begin}`, info.name);
    if (info.begin < at) throw new FormatError(file, 'two replacements overlap', info.name);
    parts.push({ kind: 'copy', begin: at, end: info.begin }, { kind: 'bytes', bytes });
    at = info.end;
  }
  parts.push({ kind: 'copy', begin: at, end: source.size });
  return { source, parts, size: source.size };
}

/** The patched file's bytes in order, at most 4 MB at a time (memory stays bounded for any file size). */
export async function* patchedChunks(patch: PatchedFile, checkpoint?: () => void): AsyncGenerator<Uint8Array> {
  for (const part of patch.parts) {
    if (part.kind === 'bytes') {
      yield part.bytes;
      continue;
    }
    for (let at = part.begin; at < part.end; at += CHUNK_BYTES) {
      checkpoint?.();
      yield await patch.source.read(at, Math.min(CHUNK_BYTES, part.end - at));
    }
  }
}

/**
 * The patched file as a Blob for download. Over a dropped file the copied spans are lazy slices of it (no
 * bytes in memory); over other sources they are read in 4 MB chunks.
 */
export async function patchedBlob(patch: PatchedFile, checkpoint?: () => void): Promise<Blob> {
  const source = patch.source;
  if (source instanceof BlobSource) {
    return new Blob(patch.parts.map((p) => (p.kind === 'bytes' ? (p.bytes as Uint8Array<ArrayBuffer>) : source.slice(p.begin, p.end))), { type: 'application/octet-stream' });
  }
  const parts: Uint8Array<ArrayBuffer>[] = [];
  for await (const chunk of patchedChunks(patch, checkpoint)) parts.push(chunk as Uint8Array<ArrayBuffer>);
  return new Blob(parts, { type: 'application/octet-stream' });
}
