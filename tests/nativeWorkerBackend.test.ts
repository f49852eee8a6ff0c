import { describe, expect, it } from 'vitest';
import { rowMatrix } from '../src/core/matrix';
import { SeededRandom } from '../src/core/random';
import { nativeWorkerBackend } from '../src/native/nativeWorkerBackend';
import { bruteMatmul } from './helpers/independentMath';

const backend = nativeWorkerBackend(1);

describe.skipIf(!backend)('native products in a kernel thread (the CLI on 4 cores or more)', () => {
  it('holds its own copy: the caller may overwrite its array once load returns; a released matrix is refused', async () => {
    const rng = new SeededRandom(21);
    const [rows, cols, l] = [301, 67, 5];
    const a = rng.gaussianArray(rows * cols);
    const b = rng.gaussianArray(cols * l);
    const y = rng.gaussianArray(rows * l);
    const ab = bruteMatmul(a, rows, cols, b, l, false);
    const atb = bruteMatmul(a, rows, cols, y, l, true);
    const loaded = await backend!.load(rowMatrix(rows, cols, a));
    a.fill(Number.NaN); // the scan reads the next layer into the same array meanwhile
    const [gotAb, gotAtb] = await Promise.all([loaded.multiply(b, l), loaded.multiplyTransposed(y, l)]);
    for (let i = 0; i < gotAb.length; i++) expect(Math.abs((gotAb[i] as number) - (ab[i] as number))).toBeLessThan(1e-3);
    for (let i = 0; i < gotAtb.length; i++) expect(Math.abs((gotAtb[i] as number) - (atb[i] as number))).toBeLessThan(1e-3);
    loaded.release();
    await expect(loaded.multiply(b, l)).rejects.toThrow(/released/);
  });
});
