import type { RowMatrix } from './matrix';

/** The paper's pcs (Eq. 3) over the non-zero rows of a matrix. */
export interface PairwiseCosineResult {
  /** Mean of cos(w_i, w_j) over ordered pairs i != j of non-zero rows; NaN when fewer than two. */
  pcs: number;
  /** Rows that entered the mean. */
  usedRows: number;
  /** Rows of norm zero, excluded (their cosine is undefined). */
  zeroRows: number;
}

/** Every row's sum of squares, in float64: the reference of the wasm kernel `rowSumSquares` (shaders/gemm.wat). */
export function rowSumSquares(m: RowMatrix): Float64Array {
  const out = new Float64Array(m.rows);
  for (let r = 0; r < m.rows; r++) {
    let s = 0;
    for (let c = r * m.cols, end = c + m.cols; c < end; c++) s += (m.data[c] as number) ** 2;
    out[r] = s;
  }
  return out;
}

/**
 * Reciprocal row norms (0 for zero rows): the reference of the first pcs pass (shaders/pcs_row_norms.wgsl).
 * Accumulates in float64; the GPU's float32 sums agree to ~1e-6 relative.
 */
export function inverseRowNorms(m: RowMatrix, firstRow = 0, rowCount = m.rows - firstRow): Float32Array {
  const out = new Float32Array(rowCount);
  const { cols, data } = m;
  for (let r = 0; r < rowCount; r++) {
    const base = (firstRow + r) * cols;
    let s0 = 0;
    let s1 = 0;
    let c = 0;
    for (; c + 1 < cols; c += 2) {
      const a = data[base + c] as number;
      const b = data[base + c + 1] as number;
      s0 += a * a;
      s1 += b * b;
    }
    if (c < cols) {
      const a = data[base + c] as number;
      s0 += a * a;
    }
    const sq = s0 + s1;
    out[r] = sq > 0 ? 1 / Math.sqrt(sq) : 0;
  }
  return out;
}

/**
 * Column sums of the unit rows, one partial sum per chunk of `chunkRows` rows: the second pass of the pcs
 * kernel (shaders/pcs_unit_row_sums.wgsl). Chunked partial sums keep float32 error small; callers add the
 * chunks in float64. Output layout: [chunk][col].
 */
export function unitRowSumChunks(
  m: RowMatrix,
  inverseNorms: Float32Array,
  chunkRows: number,
  firstRow = 0,
  rowCount = m.rows - firstRow,
): Float32Array {
  const { cols, data } = m;
  const chunks = Math.ceil(rowCount / chunkRows);
  const out = new Float32Array(chunks * cols);
  for (let k = 0; k < chunks; k++) {
    const start = k * chunkRows;
    const end = Math.min(rowCount, start + chunkRows);
    const acc = new Float32Array(cols);
    for (let r = start; r < end; r++) {
      const s = inverseNorms[r] as number;
      if (s === 0) continue;
      const base = (firstRow + r) * cols;
      for (let c = 0; c < cols; c++) acc[c] = (acc[c] as number) + (data[base + c] as number) * s;
    }
    out.set(acc, k * cols);
  }
  return out;
}

/** Each row's reciprocal norm from its sum of squares (0 for a zero row, which pcs leaves out), and the zero rows' count. */
export function unitRowWeights(squares: ArrayLike<number>): { weights: Float32Array; zeros: number } {
  const weights = new Float32Array(squares.length);
  let zeros = 0;
  for (let i = 0; i < squares.length; i++) {
    const s = squares[i] as number;
    if (s > 0) weights[i] = 1 / Math.sqrt(s);
    else zeros++;
  }
  return { weights, zeros };
}

/** pcs from the summed unit rows: (||sum of unit rows||^2 - n) / (n^2 - n). */
export function pcsFromUnitRowSum(sum: Float64Array, usedRows: number, zeroRows: number): PairwiseCosineResult {
  let sq = 0;
  for (let i = 0; i < sum.length; i++) sq += (sum[i] as number) ** 2;
  const n = usedRows;
  const pcs = n >= 2 ? (sq - n) / (n * n - n) : Number.NaN;
  return { pcs, usedRows, zeroRows };
}

/** Adds float32 partial sums laid out [chunk][col] into a float64 accumulator. */
export function addChunks(target: Float64Array, chunks: Float32Array): void {
  const cols = target.length;
  for (let i = 0; i < chunks.length; i++) {
    const c = i % cols;
    target[c] = (target[c] as number) + (chunks[i] as number);
  }
}

/** Number of zero entries of the reciprocal-norm vector: the zero rows. */
export function countZeroRows(inverseNorms: Float32Array): number {
  let zeros = 0;
  for (let i = 0; i < inverseNorms.length; i++) if (inverseNorms[i] === 0) zeros++;
  return zeros;
}

/** Reference pcs on the CPU, in linear time, by the same two passes as the GPU kernel. */
export function pairwiseCosine(m: RowMatrix, chunkRows = 256): PairwiseCosineResult {
  const inv = inverseRowNorms(m);
  const sum = new Float64Array(m.cols);
  addChunks(sum, unitRowSumChunks(m, inv, chunkRows));
  const zeros = countZeroRows(inv);
  return pcsFromUnitRowSum(sum, m.rows - zeros, zeros);
}

/**
 * Cosine-similarity matrix of rows [start, start + count): the reference of shaders/cosine_block.wgsl.
 * Zero rows give 0 against everything. Output is count x count, row-major.
 */
export function cosineBlock(m: RowMatrix, start: number, count: number): Float32Array {
  if (start < 0 || count < 0 || start + count > m.rows) {
    throw new RangeError(`row block [${start}, ${start + count}) is outside 0..${m.rows}`);
  }
  const inv = inverseRowNorms(m, start, count);
  const { cols, data } = m;
  const out = new Float32Array(count * count);
  for (let a = 0; a < count; a++) {
    const ba = (start + a) * cols;
    for (let b = a; b < count; b++) {
      const bb = (start + b) * cols;
      let dot = 0;
      for (let c = 0; c < cols; c++) dot += (data[ba + c] as number) * (data[bb + c] as number);
      const v = dot * (inv[a] as number) * (inv[b] as number);
      out[a * count + b] = v;
      out[b * count + a] = v;
    }
  }
  return out;
}
