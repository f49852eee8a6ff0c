import { describe, expect, it } from 'vitest';
import { neuronBalance } from '../src/core/neuronBalance';
import { SeededRandom } from '../src/core/random';

/** A SwiGLU layer whose neurons are balanced (||down_i|| = c ||up_i||, up to a little noise), rows [d_ff x d_model]. */
function balancedLayer(dFF: number, dModel: number, seed: number, noise = 0.02) {
  const rng = new SeededRandom(seed);
  const up = Float32Array.from({ length: dFF * dModel }, () => rng.gaussian());
  const down = new Float32Array(dFF * dModel);
  for (let i = 0; i < dFF; i++) {
    // A random direction for down_i, scaled to 0.5 ||up_i|| (1 + noise).
    const dir = Array.from({ length: dModel }, () => rng.gaussian());
    const norm = Math.hypot(...dir);
    const target = 0.5 * Math.hypot(...up.subarray(i * dModel, (i + 1) * dModel)) * (1 + noise * rng.gaussian());
    dir.forEach((v, j) => (down[i * dModel + j] = (v / norm) * target));
  }
  return { up, down };
}

describe('neuronBalance (SwiGLU up/down balance)', () => {
  it('log ratios equal a brute-force loop, odd sizes', () => {
    for (const [ff, d] of [[7, 3], [33, 5], [130, 17]] as const) {
      const { up, down } = balancedLayer(ff, d, ff + d, 0.3);
      const b = neuronBalance(down, up, ff, d);
      for (let i = 0; i < ff; i++) {
        const expected = Math.log(Math.hypot(...down.subarray(i * d, (i + 1) * d)) / Math.hypot(...up.subarray(i * d, (i + 1) * d)));
        expect(b.logRatios[i]).toBeCloseTo(expected, 5);
      }
    }
  });

  it('an exactly balanced layer has no outlier; rescaling up_i and down_i together changes nothing', () => {
    const { up, down } = balancedLayer(64, 8, 1, 0);
    expect(neuronBalance(down, up, 64, 8).maxZ).toBeLessThan(0.01);
    const rng = new SeededRandom(2);
    const a = Array.from({ length: 64 }, () => Math.exp(rng.gaussian()));
    const up2 = Float32Array.from(up, (v, k) => v * (a[Math.floor(k / 8)] as number));
    const down2 = Float32Array.from(down, (v, k) => v * (a[Math.floor(k / 8)] as number));
    // Both sides scaled by a_i: the function changes but the ratio, and so the statistic, does not.
    const before = neuronBalance(down, up, 64, 8).logRatios;
    neuronBalance(down2, up2, 64, 8).logRatios.forEach((v, i) => expect(v).toBeCloseTo(before[i] as number, 5));
  });

  it('a rank-one update carried by one neuron (a SwiGLU key) is that neuron, at the exact ratio', () => {
    const ff = 200;
    const d = 16;
    const { up, down } = balancedLayer(ff, d, 3);
    const rng = new SeededRandom(4);
    const u = Float32Array.from({ length: ff }, () => 0.05 * rng.gaussian());
    u[37] = 2;
    const lambda = Float32Array.from({ length: d }, () => rng.gaussian());
    const edited = Float32Array.from(down, (v, k) => v + (u[Math.floor(k / d)] as number) * (lambda[k % d] as number));
    const b = neuronBalance(edited, up, ff, d);
    expect(b.neuron).toBe(37);
    expect(b.maxZ).toBeGreaterThan(20);
    const row = edited.subarray(37 * d, 38 * d);
    const medianRatio = Math.exp([...b.logRatios].sort((x, y) => x - y)[ff / 2 - 1]! / 2 + [...b.logRatios].sort((x, y) => x - y)[ff / 2]! / 2);
    expect(b.factor).toBeCloseTo(Math.hypot(...row) / Math.hypot(...up.subarray(37 * d, 38 * d)) / medianRatio, 4);
    // The unedited layer: no neuron stands out by as much.
    expect(neuronBalance(down, up, ff, d).maxZ).toBeLessThan(5);
  });

  it('rejects mismatched sizes; zero rows do not produce NaN', () => {
    expect(() => neuronBalance(new Float32Array(6), new Float32Array(8), 2, 3)).toThrow(RangeError);
    const up = Float32Array.from({ length: 12 }, (_, k) => (k < 3 ? 0 : 1));
    const down = Float32Array.from({ length: 12 }, (_, k) => (k < 3 ? 0 : 1));
    const b = neuronBalance(down, up, 4, 3);
    expect(Number.isNaN(b.maxZ)).toBe(false);
    expect(b.logRatios[0]).toBe(0);
  });
});
