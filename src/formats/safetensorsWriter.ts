import { encodeFromFloat32, type ReadableDtype } from './dtypes';

export interface TensorToWrite {
  name: string;
  dtype: ReadableDtype;
  shape: number[];
  /** Values in row-major order of `shape`. */
  values: Float32Array;
}

/**
 * Serialises tensors as one safetensors file: 8-byte little-endian header length, JSON header padded with
 * spaces to a multiple of 8, then the data in the order given.
 */
export function writeSafetensors(tensors: readonly TensorToWrite[], metadata?: Record<string, string>): Uint8Array {
  const encoded = tensors.map((t) => {
    const expected = t.shape.reduce((a, b) => a * b, 1);
    if (expected !== t.values.length) throw new RangeError(`${t.name}: shape [${t.shape}] needs ${expected} values, got ${t.values.length}`);
    return encodeFromFloat32(t.dtype, t.values);
  });
  const header: Record<string, unknown> = {};
  if (metadata) header['__metadata__'] = metadata;
  let offset = 0;
  tensors.forEach((t, i) => {
    const length = (encoded[i] as Uint8Array).length;
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + length] };
    offset += length;
  });
  return assemble(JSON.stringify(header), encoded);
}

/** Joins a header string and data chunks into safetensors bytes (also used to write malformed test files). */
export function assemble(headerJson: string, chunks: readonly Uint8Array[]): Uint8Array {
  let headerBytes = new TextEncoder().encode(headerJson);
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded !== headerBytes.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(headerBytes);
    headerBytes = p;
  }
  const dataLength = chunks.reduce((a, c) => a + c.length, 0);
  const out = new Uint8Array(8 + headerBytes.length + dataLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
