/**
 * Limited-memory BFGS for smooth unconstrained minimisation (the logistic-regression probe's optimiser, as
 * scikit-learn's default solver). Backtracking line search on the Armijo condition; float64 throughout.
 */
export interface LbfgsOptions {
  maxIterations?: number;
  /** Stops when the gradient's max-norm falls below this. */
  gradientTolerance?: number;
  /** Past steps kept for the inverse-Hessian estimate. */
  memory?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  value: number;
  iterations: number;
  gradientMaxNorm: number;
}

/** `objective` returns f(x) and writes df/dx into `grad`. */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number));
  return m;
}

export function minimizeLbfgs(objective: Objective, start: Float64Array, options: LbfgsOptions = {}): LbfgsResult {
  const { maxIterations = 500, gradientTolerance = 1e-6, memory = 10 } = options;
  const n = start.length;
  let x = Float64Array.from(start);
  let g = new Float64Array(n);
  let f = objective(x, g);
  const ss: Float64Array[] = [];
  const ys: Float64Array[] = [];
  const rhos: number[] = [];
  const dir = new Float64Array(n);
  const alpha = new Float64Array(memory);
  let iterations = 0;
  for (; iterations < maxIterations && maxAbs(g) > gradientTolerance; iterations++) {
    // Two-loop recursion: dir = -H g.
    for (let i = 0; i < n; i++) dir[i] = -(g[i] as number);
    for (let j = ss.length - 1; j >= 0; j--) {
      const a = (rhos[j] as number) * dot(ss[j] as Float64Array, dir);
      alpha[j] = a;
      const y = ys[j] as Float64Array;
      for (let i = 0; i < n; i++) dir[i] = (dir[i] as number) + a * (y[i] as number);
    }
    if (ss.length > 0) {
      const last = ss.length - 1;
      const gamma = dot(ss[last] as Float64Array, ys[last] as Float64Array) / dot(ys[last] as Float64Array, ys[last] as Float64Array);
      for (let i = 0; i < n; i++) dir[i] = (dir[i] as number) * gamma;
    } else {
      // First step: a unit-length move along -g.
      const scale = 1 / Math.max(1e-12, Math.sqrt(dot(g, g)));
      for (let i = 0; i < n; i++) dir[i] = (dir[i] as number) * scale;
    }
    for (let j = 0; j < ss.length; j++) {
      const b = (rhos[j] as number) * dot(ys[j] as Float64Array, dir);
      const s = ss[j] as Float64Array;
      const a = alpha[j] as number;
      for (let i = 0; i < n; i++) dir[i] = (dir[i] as number) + (a - b) * (s[i] as number);
    }
    let slope = dot(g, dir);
    if (!(slope < 0)) {
      // Not a descent direction (curvature estimate went bad): restart from steepest descent.
      ss.length = 0;
      ys.length = 0;
      rhos.length = 0;
      for (let i = 0; i < n; i++) dir[i] = -(g[i] as number);
      slope = -dot(g, g);
    }
    let step = 1;
    const xNew = new Float64Array(n);
    const gNew = new Float64Array(n);
    let fNew = Infinity;
    for (let tries = 0; tries < 50; tries++) {
      for (let i = 0; i < n; i++) xNew[i] = (x[i] as number) + step * (dir[i] as number);
      fNew = objective(xNew, gNew);
      if (Number.isFinite(fNew) && fNew <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNew <= f)) break; // no progress possible at float64 precision
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = (xNew[i] as number) - (x[i] as number);
      y[i] = (gNew[i] as number) - (g[i] as number);
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      if (ss.length === memory) {
        ss.shift();
        ys.shift();
        rhos.shift();
      }
      ss.push(s);
      ys.push(y);
      rhos.push(1 / sy);
    }
    x = xNew;
    g = gNew;
    const improvement = f - fNew;
    f = fNew;
    if (improvement <= 1e-15 * Math.max(1, Math.abs(f))) {
      iterations++;
      break;
    }
  }
  return { x, value: f, iterations, gradientMaxNorm: maxAbs(g) };
}
