/**
 * A dense row-major float32 matrix: the one shape every analysis passes around.
 * Rows are the paper's d_ff-indexed vectors (length `cols` = d_model) once a family has oriented them.
 */
export interface RowMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

export function rowMatrix(rows: number, cols: number, data?: Float32Array): RowMatrix {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new RangeError(`bad matrix shape ${rows} x ${cols}`);
  }
  const values = data ?? new Float32Array(rows * cols);
  if (values.length !== rows * cols) {
    throw new RangeError(`matrix data has ${values.length} values, shape ${rows} x ${cols} needs ${rows * cols}`);
  }
  return { rows, cols, data: values };
}

/** Frobenius norm, accumulated in float64. */
export function frobeniusNorm(data: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    sum += v * v;
  }
  return Math.sqrt(sum);
}

/** a - b element-wise, as float32 (into `reuse` when it is large enough). */
export function subtract(a: RowMatrix, b: RowMatrix, reuse?: Float32Array): RowMatrix {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new RangeError(`shape mismatch: ${a.rows} x ${a.cols} vs ${b.rows} x ${b.cols}`);
  }
  const out = reuse && reuse.length >= a.data.length ? reuse.subarray(0, a.data.length) : new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (a.data[i] as number) - (b.data[i] as number);
  return rowMatrix(a.rows, a.cols, out);
}

/** dst [cols x rows] = src [rows x cols]^T, in cache-friendly 32 x 32 blocks. */
export function transpose(src: Float32Array, rows: number, cols: number, dst: Float32Array = new Float32Array(rows * cols)): Float32Array {
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) dst[c * rows + r] = src[r * cols + c] as number;
    }
  }
  return dst;
}
