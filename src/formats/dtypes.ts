/** Safetensors dtypes: element sizes in bits, and conversion of the float ones to float32. */

export const DTYPE_BITS: Readonly<Record<string, number>> = {
  BOOL: 8,
  U8: 8,
  I8: 8,
  F8_E4M3: 8,
  F8_E5M2: 8,
  F8_E8M0: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  I64: 64,
  U64: 64,
  F64: 64,
  C64: 64,
};

/** The dtypes the analyses read (converted to float32 on the fly). */
export const READABLE_DTYPES = ['F32', 'F16', 'BF16'] as const;
export type ReadableDtype = (typeof READABLE_DTYPES)[number];

export function isReadableDtype(dtype: string): dtype is ReadableDtype {
  return (READABLE_DTYPES as readonly string[]).includes(dtype);
}

export function bytesPerElement(dtype: ReadableDtype): number {
  return dtype === 'F32' ? 4 : 2;
}

let halfTable: Float32Array | null = null;

/** float16 bit pattern -> float32 value, through a 64K-entry table built once. */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    let value: number;
    if (exponent === 0) value = mantissa * 2 ** -24;
    else if (exponent === 31) value = mantissa === 0 ? Infinity : Number.NaN;
    else value = (1 + mantissa / 1024) * 2 ** (exponent - 15);
    table[h] = sign * value;
  }
  halfTable = table;
  return table;
}

/**
 * Decodes little-endian elements of `dtype` from `bytes` into `out[outOffset + i * outStride]`.
 * `bytes.byteOffset` may be unaligned; values are read element by element from a copy when needed.
 */
export function decodeToFloat32(
  dtype: ReadableDtype,
  bytes: Uint8Array,
  out: Float32Array,
  outOffset = 0,
  outStride = 1,
): void {
  const count = bytes.length / bytesPerElement(dtype);
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  if (dtype === 'F32') {
    const src = new Float32Array(aligned.buffer, aligned.byteOffset, count);
    if (outStride === 1) out.set(src, outOffset);
    else for (let i = 0; i < count; i++) out[outOffset + i * outStride] = src[i] as number;
    return;
  }
  const src = new Uint16Array(aligned.buffer, aligned.byteOffset, count);
  if (dtype === 'F16') {
    const table = halfToFloatTable();
    for (let i = 0; i < count; i++) out[outOffset + i * outStride] = table[src[i] as number] as number;
    return;
  }
  // bfloat16 is the top half of a float32.
  if (outStride === 1) {
    const bits = new Uint32Array(out.buffer, out.byteOffset + outOffset * 4, count);
    for (let i = 0; i < count; i++) bits[i] = (src[i] as number) << 16;
    return;
  }
  const word = new Uint32Array(1);
  const asFloat = new Float32Array(word.buffer);
  for (let i = 0; i < count; i++) {
    word[0] = (src[i] as number) << 16;
    out[outOffset + i * outStride] = asFloat[0] as number;
  }
}

/** Columns per tile of the transposing decode: a tile's source lines stay in L1 while its output rows are written. */
const TRANSPOSE_TILE = 64;

/**
 * Decodes `count` stored rows of `width` elements each from `bytes` and writes them transposed: stored element
 * (i, c) goes to `out[c * outRowLength + outColumn + i]` (a GPT-J or Llama matrix stored [d_model, d_ff] read as
 * d_ff rows). Tiled over c so the strided reads hit cache: 2.5x faster than element by element on a Llama layer.
 */
export function decodeTransposedToFloat32(dtype: ReadableDtype, bytes: Uint8Array, count: number, width: number, out: Float32Array, outRowLength: number, outColumn: number): void {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  const src32 = dtype === 'F32' ? new Uint32Array(aligned.buffer, aligned.byteOffset, count * width) : null;
  const src16 = dtype === 'F32' ? null : new Uint16Array(aligned.buffer, aligned.byteOffset, count * width);
  const table = dtype === 'F16' ? halfToFloatTable() : null;
  if (dtype !== 'F32' && width % 2 === 0) {
    // Two neighbouring 16-bit values per 32-bit load, written to two output rows: half the loads.
    const pairs = new Uint32Array(aligned.buffer, aligned.byteOffset, (count * width) / 2);
    const half = width / 2;
    for (let p0 = 0; p0 < half; p0 += TRANSPOSE_TILE / 2) {
      const p1 = Math.min(half, p0 + TRANSPOSE_TILE / 2);
      for (let p = p0; p < p1; p++) {
        const even = 2 * p * outRowLength + outColumn;
        const odd = even + outRowLength;
        for (let i = 0; i < count; i++) {
          const w = pairs[i * half + p] as number;
          if (table) {
            out[even + i] = table[w & 0xffff] as number;
            out[odd + i] = table[w >>> 16] as number;
          } else {
            bits[even + i] = w << 16;
            bits[odd + i] = w & 0xffff0000;
          }
        }
      }
    }
    return;
  }
  for (let c0 = 0; c0 < width; c0 += TRANSPOSE_TILE) {
    const c1 = Math.min(width, c0 + TRANSPOSE_TILE);
    for (let c = c0; c < c1; c++) {
      const at = c * outRowLength + outColumn;
      if (src32) for (let i = 0; i < count; i++) bits[at + i] = src32[i * width + c] as number;
      else if (table) for (let i = 0; i < count; i++) out[at + i] = table[(src16 as Uint16Array)[i * width + c] as number] as number;
      else for (let i = 0; i < count; i++) bits[at + i] = ((src16 as Uint16Array)[i * width + c] as number) << 16;
    }
  }
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** float32 -> bfloat16 bits, rounding to nearest even (NaN kept quiet). */
export function float32ToBfloat16Bits(x: number): number {
  scratch[0] = x;
  const bits = scratchBits[0] as number;
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x7fffff) !== 0) return ((bits >>> 16) | 0x40) & 0xffff;
  const rounding = 0x7fff + ((bits >>> 16) & 1);
  return ((bits + rounding) >>> 16) & 0xffff;
}

/** float32 -> float16 bits, rounding to nearest even, with subnormals and overflow to infinity. */
export function float32ToFloat16Bits(x: number): number {
  scratch[0] = x;
  const bits = scratchBits[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mantissa & ((1 << shift) - 1);
    let h = mantissa >>> shift;
    if (rest > half || (rest === half && (h & 1) === 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++;
  return sign | h;
}

/** Encodes float32 values as little-endian bytes of `dtype` (for writing checkpoints). */
export function encodeFromFloat32(dtype: ReadableDtype, values: Float32Array): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const out = dtype === 'F16' ? float32ArrayToFloat16Bits(values) : float32ArrayToBfloat16Bits(values);
  return new Uint8Array(out.buffer);
}

/**
 * float32 values -> float16 bits, rounding to nearest even, as float32ToFloat16Bits does element by element:
 * the normal range is done inline on the bit patterns (9 ns an element against 23-41 for the element
 * function, measured on a busy 2-core machine; a GPT-2 XL's weights are 1.5 billion), everything else
 * (subnormal, overflow, non-finite) through the element function.
 */
export function float32ArrayToFloat16Bits(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i] as number;
    const exponent = (b >>> 23) & 0xff;
    // Biased float32 exponents 113..142 are float16's normal exponents 1..30.
    if (exponent > 112 && exponent < 143) {
      let h = ((b >>> 16) & 0x8000) | ((exponent - 112) << 10) | ((b >>> 13) & 0x3ff);
      const rest = b & 0x1fff;
      if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++;
      out[i] = h;
    } else out[i] = float32ToFloat16Bits(values[i] as number);
  }
  return out;
}

/** float32 values -> bfloat16 bits, rounding to nearest even (float32ToBfloat16Bits over an array). */
export function float32ArrayToBfloat16Bits(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i] as number;
    if ((b & 0x7f800000) === 0x7f800000) out[i] = float32ToBfloat16Bits(values[i] as number);
    else out[i] = ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return out;
}
