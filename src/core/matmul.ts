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
    for (let c = 0; c < l; c++) {
      const bb = c * n;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let j = 0;
      for (; j + 3 < n; j += 4) {
        s0 += (a[base + j] as number) * (bt[bb + j] as number);
        s1 += (a[base + j + 1] as number) * (bt[bb + j + 1] as number);
        s2 += (a[base + j + 2] as number) * (bt[bb + j + 2] as number);
        s3 += (a[base + j + 3] as number) * (bt[bb + j + 3] as number);
      }
      for (; j < n; j++) s0 += (a[base + j] as number) * (bt[bb + j] as number);
      out[i * l + c] = s0 + s1 + s2 + s3;
    }
  }
  return out;
}

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
  // Accumulate column c of C as a sum of rows of A scaled by B[i, c]: contiguous axpy over A's rows.
  const acc = new Float64Array(l * n);
  for (let i = 0; i < m; i++) {
    const base = i * n;
    for (let c = 0; c < l; c++) {
      const s = b[i * l + c] as number;
      if (s === 0) continue;
      const ab = c * n;
      for (let j = 0; j < n; j++) acc[ab + j] = (acc[ab + j] as number) + s * (a[base + j] as number);
    }
  }
  const out = new Float32Array(n * l);
  for (let c = 0; c < l; c++) for (let j = 0; j < n; j++) out[j * l + c] = acc[c * n + j] as number;
  return out;
}

function checkLength(name: string, x: ArrayLike<number>, expected: number): void {
  if (x.length !== expected) throw new RangeError(`${name} has ${x.length} values, expected ${expected}`);
}
