import { minimizeLbfgs } from './lbfgs';

/**
 * Multinomial logistic regression with an L2 penalty on the weights (not the biases), fitted by L-BFGS:
 * loss = sum_i -log softmax(W^T x_i + b)_{y_i} + ||W||^2 / (2 C), scikit-learn's formulation (C = 1 default).
 */
export interface LogisticModel {
  features: number;
  classes: number;
  /** [features x classes], row-major. */
  weights: Float64Array;
  biases: Float64Array;
}

export interface LogisticFitOptions {
  /** Inverse regularisation strength. */
  c?: number;
  maxIterations?: number;
}

/** Loss and gradient over a flat parameter vector [W (features x classes) | b (classes)]. */
export function logisticObjective(x: Float64Array, n: number, p: number, labels: Int32Array, k: number, c: number) {
  return (theta: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let loss = 0;
    const z = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < k; j++) {
        let s = theta[p * k + j] as number;
        for (let f = 0; f < p; f++) s += (x[i * p + f] as number) * (theta[f * k + j] as number);
        z[j] = s;
      }
      let max = -Infinity;
      for (let j = 0; j < k; j++) max = Math.max(max, z[j] as number);
      let sum = 0;
      for (let j = 0; j < k; j++) sum += Math.exp((z[j] as number) - max);
      const logSum = max + Math.log(sum);
      const y = labels[i] as number;
      loss += logSum - (z[y] as number);
      for (let j = 0; j < k; j++) {
        const r = Math.exp((z[j] as number) - logSum) - (j === y ? 1 : 0);
        grad[p * k + j] = (grad[p * k + j] as number) + r;
        for (let f = 0; f < p; f++) grad[f * k + j] = (grad[f * k + j] as number) + r * (x[i * p + f] as number);
      }
    }
    for (let w = 0; w < p * k; w++) {
      loss += (theta[w] as number) ** 2 / (2 * c);
      grad[w] = (grad[w] as number) + (theta[w] as number) / c;
    }
    return loss;
  };
}

/** Fits the model to `n` rows of `p` features (row-major) with labels in [0, classes). */
export function fitLogistic(x: Float64Array, n: number, p: number, labels: Int32Array, classes: number, options: LogisticFitOptions = {}): LogisticModel {
  if (x.length !== n * p) throw new RangeError(`${x.length} feature values for ${n} x ${p}`);
  if (labels.length !== n) throw new RangeError(`${labels.length} labels for ${n} rows`);
  for (const y of labels) if (!(y >= 0 && y < classes)) throw new RangeError(`label ${y} outside [0, ${classes})`);
  const c = options.c ?? 1;
  const result = minimizeLbfgs(logisticObjective(x, n, p, labels, classes, c), new Float64Array((p + 1) * classes), { maxIterations: options.maxIterations ?? 1000, gradientTolerance: 1e-6 });
  return { features: p, classes, weights: result.x.slice(0, p * classes), biases: result.x.slice(p * classes) };
}

/** Class probabilities of one feature vector. */
export function predictProbabilities(model: LogisticModel, features: ArrayLike<number>): Float64Array {
  const { features: p, classes: k } = model;
  const z = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    let s = model.biases[j] as number;
    for (let f = 0; f < p; f++) s += (features[f] as number) * (model.weights[f * k + j] as number);
    z[j] = s;
  }
  let max = -Infinity;
  for (const v of z) max = Math.max(max, v);
  let sum = 0;
  for (let j = 0; j < k; j++) sum += z[j] = Math.exp((z[j] as number) - max);
  for (let j = 0; j < k; j++) z[j] = (z[j] as number) / sum;
  return z;
}
