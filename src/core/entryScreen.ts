import type { RowMatrix } from './matrix';

/**
 * Screening of a weight matrix's entries before its statistics (README "How a layer is flagged": what the
 * verdict resists). A forensic tool must assume the editor knows the detector: one NaN makes every pcs and
 * singular value NaN, and a few planted huge entries can add spikes that drown the edit's spectral signature.
 * Such entries are counted, reported, and set to zero for the statistics only.
 *
 * An entry is an outlier when |x_ij| exceeds OUTLIER_FACTOR times both its row's and its column's median
 * magnitude. A rank-one update u lambda^T never qualifies on its own: its entry (i, j) is about |u_i| times
 * row j's typical |lambda| and |lambda_j| times the column's typical |u|, so it is extreme against both only
 * if u_i and lambda_j are both extreme (measured on the demo's edits: at most 11x; planted entries: 1e22x).
 */
export const OUTLIER_FACTOR = 50;

/**
 * Entries sampled per row and rows per column for the medians (evenly spaced): a median of a few hundred
 * entries is within a few percent of the exact one, far inside the factor of 50, and a handful of planted
 * entries cannot move it. Keeps the screen at one pass over the matrix.
 */
const ROW_SAMPLE = 128;
const COLUMN_SAMPLE_ROWS = 512;

export interface ScreenedEntry {
  row: number;
  col: number;
  /** The stored value (NaN, +-Infinity or the outlier). */
  value: number;
  /** |value| / max(row median, column median); Infinity for non-finite values. */
  ratio: number;
}

export interface EntryScreen {
  nonFinite: number;
  outliers: number;
  /** The most extreme screened entries (up to 8), largest ratio first. */
  examples: ScreenedEntry[];
}

/** k-th smallest of values[0..n) (quickselect, reorders the array). */
function kthSmallest(values: Float32Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((values[i] as number) < pivot) i++;
      while ((values[j] as number) > pivot) j--;
      if (i <= j) {
        const t = values[i] as number;
        values[i] = values[j] as number;
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return values[k] as number;
}

/** Median magnitude of the finite values among `count` strided values (scratch must hold `count`). */
function medianMagnitude(data: Float32Array, start: number, count: number, stride: number, scratch: Float32Array): number {
  let n = 0;
  for (let i = 0; i < count; i++) {
    const x = data[start + i * stride] as number;
    if (Number.isFinite(x)) scratch[n++] = Math.abs(x);
  }
  return n === 0 ? 0 : kthSmallest(scratch, n, n >> 1);
}

export interface ScreenOptions {
  /** Receives each row's Euclidean norm after the screen (rows long); the values are left as they are. */
  rowNorms?: Float32Array;
}

/**
 * Counts non-finite and outlier entries of `m` and sets them to zero in place (the caller passes a copy it
 * owns); with `rowNorms`, also measures each row's norm. O(rows x cols) time, one read of each row; extra
 * memory one row's sample plus the column sample's rows when some row needs them.
 *
 * Every scale is at least `floor`, so a row whose entries are all finite and within OUTLIER_FACTOR x floor
 * cannot hold an outlier: only the other rows need their median and their columns' (the same outliers as
 * computing every median, less than half the time on trained layers, whose rows are nearly all like that).
 */
export function screenEntries(m: RowMatrix, options: ScreenOptions = {}): EntryScreen {
  const { rows, cols, data } = m;
  const examples: ScreenedEntry[] = [];
  const keep = (e: ScreenedEntry) => {
    examples.push(e);
    examples.sort((a, b) => b.ratio - a.ratio);
    if (examples.length > 8) examples.pop();
  };
  if (rows === 0 || cols === 0) return { nonFinite: 0, outliers: 0, examples };
  const scratch = new Float32Array(Math.max(ROW_SAMPLE, COLUMN_SAMPLE_ROWS, 4096));
  // Floor of every scale: the median magnitude of non-zero entries (sparse or pruned matrices have row and
  // column medians of zero, which would make every stored value an outlier).
  let floor = 0;
  {
    const total = rows * cols;
    const stride = Math.max(1, Math.floor(total / scratch.length));
    let n = 0;
    for (let i = 0; i < total && n < scratch.length; i += stride) {
      const x = data[i] as number;
      if (Number.isFinite(x) && x !== 0) scratch[n++] = Math.abs(x);
    }
    floor = n ? kthSmallest(scratch, n, n >> 1) : 0;
  }
  const clearLimit = OUTLIER_FACTOR * floor;
  const rowStep = Math.max(1, Math.floor(cols / ROW_SAMPLE));
  const rowSampled = Math.ceil(cols / rowStep);
  // Column medians come from every step-th row as stored, copied when the first row that is not clear is
  // reached (never, on most layers: rows above it were clear, so nothing in them was zeroed); a column's
  // median is taken the first time a row needs it.
  const step = Math.max(1, Math.floor(rows / COLUMN_SAMPLE_ROWS));
  const sampled = Math.ceil(rows / step);
  let columnRows: Float32Array | null = null;
  const colMedian = new Float32Array(cols);
  const sampleColumns = () => {
    const copy = new Float32Array(sampled * cols);
    for (let s = 0; s < sampled; s++) copy.set(data.subarray(s * step * cols, (s * step + 1) * cols), s * cols);
    colMedian.fill(Number.NaN);
    return copy;
  };
  const columnMedian = (c: number, rows: Float32Array): number => {
    let v = colMedian[c] as number;
    if (Number.isNaN(v)) {
      v = medianMagnitude(rows, c, sampled, cols, scratch);
      colMedian[c] = v;
    }
    return v;
  };
  let nonFinite = 0;
  let outliers = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    // NaN when an entry is over the clear limit (or not finite): only such rows take the slow path.
    let s = sumOfSquares(data, base, cols, clearLimit);
    if (Number.isNaN(s)) {
      columnRows ??= sampleColumns();
      const rm = Math.max(medianMagnitude(data, base, rowSampled, rowStep, scratch), floor);
      const rowLimit = OUTLIER_FACTOR * rm;
      for (let c = 0; c < cols; c++) {
        const x = data[base + c] as number;
        if (Math.abs(x) <= rowLimit) continue;
        if (!Number.isFinite(x)) {
          nonFinite++;
          keep({ row: r, col: c, value: x, ratio: Infinity });
          data[base + c] = 0;
          continue;
        }
        const scale = Math.max(rm, columnMedian(c, columnRows));
        const a = Math.abs(x);
        if (a > OUTLIER_FACTOR * scale && a > 0) {
          outliers++;
          keep({ row: r, col: c, value: x, ratio: scale > 0 ? a / scale : Infinity });
          data[base + c] = 0;
        }
      }
      s = sumOfSquares(data, base, cols);
    }
    if (options.rowNorms) options.rowNorms[r] = Math.sqrt(s);
  }
  return { nonFinite, outliers, examples };
}

/** Scales every non-zero row to unit length in place: the spectrum then no longer depends on row norms. */
export function normalizeRows(m: RowMatrix): void {
  const { rows, cols, data } = m;
  for (let r = 0; r < rows; r++) normalizeRow(data, r * cols, cols);
}

/**
 * Sum of squares of data[base..base + n), in four running sums: one sum waits on each addition before the
 * next (the adder's latency), four keep it busy (2x faster on a Llama layer). NaN when an entry's magnitude
 * is over `limit` or is NaN.
 */
function sumOfSquares(data: Float32Array, base: number, n: number, limit = Infinity): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let within = true;
  const end = base + n;
  let c = base;
  for (; c + 3 < end; c += 4) {
    const a = data[c] as number;
    const b = data[c + 1] as number;
    const d = data[c + 2] as number;
    const e = data[c + 3] as number;
    s0 += a * a;
    s1 += b * b;
    s2 += d * d;
    s3 += e * e;
    // false for NaN as for anything over the limit
    if (!(Math.abs(a) <= limit && Math.abs(b) <= limit && Math.abs(d) <= limit && Math.abs(e) <= limit)) within = false;
  }
  for (; c < end; c++) {
    const a = data[c] as number;
    s0 += a * a;
    if (!(Math.abs(a) <= limit)) within = false;
  }
  return within ? s0 + s1 + (s2 + s3) : Number.NaN;
}

function normalizeRow(data: Float32Array, base: number, cols: number): void {
  const s = sumOfSquares(data, base, cols);
  if (!(s > 0)) return;
  const inv = 1 / Math.sqrt(s);
  for (let c = base, end = base + cols; c < end; c++) data[c] = (data[c] as number) * inv;
}
