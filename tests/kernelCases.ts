import { SeededRandom } from '../src/core/random';

/** Shapes every backend must handle: odd sizes, sizes not divisible by 16/64/256, single rows/cols, zero rows. */
export interface KernelCase {
  name: string;
  rows: number;
  cols: number;
  make(): Float32Array;
}

function gaussianWithCommon(rows: number, cols: number, seed: number, common: number, zeroRows: number[] = []): Float32Array {
  const rng = new SeededRandom(seed);
  const shared = Array.from({ length: cols }, () => rng.gaussian());
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    if (zeroRows.includes(i)) continue;
    for (let c = 0; c < cols; c++) out[i * cols + c] = rng.gaussian() + common * (shared[c] as number);
  }
  return out;
}

export const KERNEL_CASES: KernelCase[] = [
  { name: '333 x 77 gaussian', rows: 333, cols: 77, make: () => gaussianWithCommon(333, 77, 1, 0) },
  { name: '1000 x 129 with a shared direction', rows: 1000, cols: 129, make: () => gaussianWithCommon(1000, 129, 2, 0.6) },
  { name: '257 x 1 single column', rows: 257, cols: 1, make: () => gaussianWithCommon(257, 1, 3, 0.2) },
  { name: '2 x 3 tiny', rows: 2, cols: 3, make: () => Float32Array.from([1, 2, 3, -3, 0.5, 2]) },
  { name: '300 x 33 with zero rows', rows: 300, cols: 33, make: () => gaussianWithCommon(300, 33, 4, 0.3, [0, 17, 255, 256, 299]) },
  { name: '64 x 64 square', rows: 64, cols: 64, make: () => gaussianWithCommon(64, 64, 5, 1.5) },
];
