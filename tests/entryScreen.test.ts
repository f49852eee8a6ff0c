import { describe, expect, it } from 'vitest';
import { normalizeRows, screenEntries } from '../src/core/entryScreen';
import { rowMatrix } from '../src/core/matrix';
import { SeededRandom } from '../src/core/random';

const rng = new SeededRandom(8);

describe('entry screen', () => {
  it('finds nothing in Gaussian weights, nor in weights plus a rank-one update as large as the rows', () => {
    const [n, d] = [500, 120];
    const w = rowMatrix(n, d, rng.gaussianArray(n * d));
    expect(screenEntries(rowMatrix(n, d, Float32Array.from(w.data)))).toMatchObject({ nonFinite: 0, outliers: 0 });
    const u = rng.gaussianArray(n);
    const lambda = rng.gaussianArray(d);
    // Gaussian u and lambda: |u_i| ||lambda|| ~ ||w_i||, a row ratio of about one.
    const edited = Float32Array.from(w.data, (x, idx) => x + (u[Math.floor(idx / d)] as number) * (lambda[idx % d] as number));
    expect(screenEntries(rowMatrix(n, d, edited))).toMatchObject({ nonFinite: 0, outliers: 0 });
  });

  it('counts, reports and zeroes NaN, infinities and planted huge entries, most extreme first', () => {
    const [n, d] = [64, 33];
    const data = rng.gaussianArray(n * d);
    data[5] = Number.NaN;
    data[40] = Number.POSITIVE_INFINITY;
    data[70] = Number.NEGATIVE_INFINITY;
    data[100] = 1e22;
    data[2000] = -3e3;
    const screen = screenEntries(rowMatrix(n, d, data));
    expect(screen.nonFinite).toBe(3);
    expect(screen.outliers).toBe(2);
    expect(screen.examples.slice(3).map((e) => [e.row, e.col, e.value])).toEqual([
      [3, 1, 1e22],
      [60, 20, -3e3],
    ].map(([r, c, v]) => [r, c, Math.fround(v as number)]));
    expect(screen.examples.slice(0, 3).every((e) => e.ratio === Infinity)).toBe(true);
    for (const i of [5, 40, 70, 100, 2000]) expect(data[i]).toBe(0);
    expect(data.every(Number.isFinite)).toBe(true);
  });

  it('flags what its definition does when every median is computed, clear rows before a heavy column included', () => {
    // Small enough that every median is over all entries (no sampling): the definition, computed by brute force.
    const [n, d] = [300, 13];
    const stored = rng.gaussianArray(n * d);
    // Rows 0-199 are clear of the limit (50 x the floor) and normalised before the first row that is not: the
    // column medians must still be of the values as stored. Columns 4 and 7 are heavy (10x; their 200 at row 270
    // is 30x its column's median: no outlier), column 7 more so from row 200 on (40x: over the limit).
    for (let r = 0; r < n; r++) for (const c of [4, 7]) stored[r * d + c] = (stored[r * d + c] as number) * (c === 7 && r >= 200 ? 40 : 10);
    stored[270 * d + 4] = 200;
    stored[250 * d + 7] = 1e6; // an outlier even against its heavy column
    stored[260 * d + 5] = 1e3; // an outlier in a plain column
    stored[220 * d + 2] = Number.NaN;
    stored[230 * d + 9] = -Number.POSITIVE_INFINITY;
    const median = (xs: number[]) => Float32Array.from(xs).sort()[xs.length >> 1] as number;
    const finiteAbs = (xs: number[]) => xs.filter(Number.isFinite).map(Math.abs);
    const floor = median(finiteAbs(Array.from(stored)).filter((x) => x !== 0));
    const rowMed = Array.from({ length: n }, (_, r) => Math.max(median(finiteAbs(Array.from(stored.subarray(r * d, r * d + d)))), floor));
    const colMed = Array.from({ length: d }, (_, c) => median(finiteAbs(Array.from({ length: n }, (_, r) => stored[r * d + c] as number))));
    const expected = Float32Array.from(stored);
    const flagged: [number, number][] = [];
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < d; c++) {
        const x = stored[r * d + c] as number;
        if (!Number.isFinite(x) || Math.abs(x) > 50 * Math.max(rowMed[r] as number, colMed[c] as number)) {
          flagged.push([r, c]);
          expected[r * d + c] = 0;
        }
      }
    }
    const screenedNorms = Array.from({ length: n }, (_, r) => Math.hypot(...expected.subarray(r * d, r * d + d)));
    normalizeRows(rowMatrix(n, d, expected));
    expect(flagged).toEqual([[220, 2], [230, 9], [250, 7], [260, 5]]);
    for (const normalize of [false, true]) {
      const data = Float32Array.from(stored);
      const rowNorms = new Float32Array(n);
      const screen = screenEntries(rowMatrix(n, d, data), normalize ? { rowNorms } : {});
      expect(screen.nonFinite + screen.outliers).toBe(flagged.length);
      expect(screen.examples.map((e) => [e.row, e.col]).sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual(flagged);
      if (normalize) {
        rowNorms.forEach((x, r) => expect(Math.abs(x / (screenedNorms[r] as number) - 1)).toBeLessThan(1e-6));
        normalizeRows(rowMatrix(n, d, data));
        expect(data).toEqual(expected);
      } else for (const [r, c] of flagged) expect(data[r * d + c]).toBe(0);
    }
  });

  it('leaves sparse (pruned) matrices alone', () => {
    const [n, d] = [200, 50];
    const data = Float32Array.from(rng.gaussianArray(n * d), (x, i) => (i % 10 === 0 ? x : 0));
    expect(screenEntries(rowMatrix(n, d, data))).toMatchObject({ nonFinite: 0, outliers: 0 });
  });

  it('normalises rows to unit length and leaves zero rows at zero', () => {
    const m = rowMatrix(3, 2, Float32Array.from([3, 4, 0, 0, -1, 1]));
    normalizeRows(m);
    expect(Array.from(m.data).map((x) => Number(x.toFixed(6)))).toEqual([0.6, 0.8, 0, 0, -0.707107, 0.707107]);
  });
});

describe('histogram of u', () => {
  it('keeps its range on the bulk when one entry is an outlier, and counts the clipped entries', async () => {
    const { histogram } = await import('../src/core/editSignature');
    const values = Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 0.01);
    values[7] = 50;
    const h = histogram(values, 20);
    expect(h.edges[20]).toBeLessThan(0.011);
    expect(h.clipped).toBeGreaterThanOrEqual(1);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(1000);
    // Zero is always inside the range: it separates the two directions.
    expect(histogram([0.2, 0.3, 0.4], 4).edges[0]).toBe(0);
  });
  it('screening with rowNorms gives each screened row its norm, zero rows zero, and leaves the values as screened', () => {
    const [n, d] = [97, 41];
    const data = rng.gaussianArray(n * d);
    data[7] = Number.NaN;
    data[300] = 1e25;
    data.fill(0, 10 * d, 11 * d); // a zero row
    const plain = Float32Array.from(data);
    const measured = Float32Array.from(data);
    const a = screenEntries(rowMatrix(n, d, plain));
    const rowNorms = new Float32Array(n).fill(-1);
    const b = screenEntries(rowMatrix(n, d, measured), { rowNorms });
    expect(b).toEqual(a);
    expect(measured).toEqual(plain);
    expect(rowNorms[10]).toBe(0);
    for (let r = 0; r < n; r++) {
      let sum = 0;
      for (let c = 0; c < d; c++) sum += (plain[r * d + c] as number) ** 2;
      expect(Math.abs((rowNorms[r] as number) - Math.sqrt(sum))).toBeLessThanOrEqual(1e-6 * Math.sqrt(sum));
    }
  });
});
