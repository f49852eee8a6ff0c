/**
 * Matrix products with a thin right-hand side: the references of shaders/matmul.wgsl and the CPU path of
 * randomized SVD. All matrices are row-major; accumulation is float64 per output element.
 */

/** C = A * B with A [m x n], B [n x l]; C is [m x l]. */
export function multiply(a: Float32Array, m: number, n: number, b: ArrayLike<number>, l: number): Float32Array {
  checkLength('A', a, m * n);
  checkLength('B', b, n * l);
  // B transposed so that each dot product walks contiguous memory.
  const bt = new Float64Array(l * n);
  for (let j = 0; j < n; j++) for (let c = 0; c < l; c++) bt[c * n + j] = b[j * l + c] as number;
  const out = new Float32Array(m * l);
  for (let i = 0; i < m; i++) {
    const base = i * n;
    let c = 0;
    // Two output columns per pass: each load of A's row feeds two products.
    for (; c + 1 < l; c += 2) {
      const b0 = c * n;
      const b1 = b0 + n;
      let s0 = 0;
      let s1 = 0;
      let t0 = 0;
      let t1 = 0;
      let j = 0;
      for (; j + 1 < n; j += 2) {
        const x0 = a[base + j] as number;
        const x1 = a[base + j + 1] as number;
        s0 += x0 * (bt[b0 + j] as number);
        s1 += x1 * (bt[b0 + j + 1] as number);
        t0 += x0 * (bt[b1 + j] as number);
        t1 += x1 * (bt[b1 + j + 1] as number);
      }
      if (j < n) {
        const x0 = a[base + j] as number;
        s0 += x0 * (bt[b0 + j] as number);
        t0 += x0 * (bt[b1 + j] as number);
      }
      out[i * l + c] = s0 + s1;
      out[i * l + c + 1] = t0 + t1;
    }
    if (c < l) out[i * l + c] = dotProduct(a, base, bt, c * n, n);
  }
  return out;
}

/** Rows of A handled per block by multiplyTransposed: the transposed block stays in cache. */
const BLOCK_ROWS = 64;

/** C = A^T * B with A [m x n], B [m x l]; C is [n x l]. */
export function multiplyTransposed(
  a: Float32Array,
  m: number,
  n: number,
  b: ArrayLike<number>,
  l: number,
): Float32Array {
  checkLength('A', a, m * n);
  checkLength('B', b, m * l);
  const acc = new Float64Array(n * l);
  const at = new Float64Array(n * BLOCK_ROWS);
  const bt = new Float64Array(l * BLOCK_ROWS);
  for (let i0 = 0; i0 < m; i0 += BLOCK_ROWS) {
    const rows = Math.min(BLOCK_ROWS, m - i0);
    // Transpose the block of A [rows x n] and of B [rows x l] so the sums over i run over contiguous memory.
    for (let r = 0; r < rows; r++) {
      const src = (i0 + r) * n;
      for (let j = 0; j < n; j++) at[j * BLOCK_ROWS + r] = a[src + j] as number;
      for (let c = 0; c < l; c++) bt[c * BLOCK_ROWS + r] = b[(i0 + r) * l + c] as number;
    }
    for (let j = 0; j < n; j++) {
      const aj = j * BLOCK_ROWS;
      for (let c = 0; c < l; c++) {
        acc[j * l + c] = (acc[j * l + c] as number) + dotProduct(at, aj, bt, c * BLOCK_ROWS, rows);
      }
    }
  }
  return Float32Array.from(acc);
}

/** Dot product of x[xo .. xo+len) and y[yo .. yo+len) with four accumulators. */
export function dotProduct(x: ArrayLike<number>, xo: number, y: ArrayLike<number>, yo: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < len; k += 4) {
    s0 += (x[xo + k] as number) * (y[yo + k] as number);
    s1 += (x[xo + k + 1] as number) * (y[yo + k + 1] as number);
    s2 += (x[xo + k + 2] as number) * (y[yo + k + 2] as number);
    s3 += (x[xo + k + 3] as number) * (y[yo + k + 3] as number);
  }
  for (; k < len; k++) s0 += (x[xo + k] as number) * (y[yo + k] as number);
  return s0 + s1 + s2 + s3;
}

function checkLength(name: string, x: ArrayLike<number>, expected: number): void {
  if (x.length !== expected) throw new RangeError(`${name} has ${x.length} values, expected ${expected}`);
}
