/**
 * AdamW over one flat parameter vector (decoupled weight decay, bias-corrected moments), with global-norm
 * gradient clipping. Flat storage lets two threads share parameters and gradients through shared memory.
 */
export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  clipNorm: number;
}

export class AdamW {
  readonly m: Float32Array;
  readonly v: Float32Array;
  step = 0;

  constructor(
    readonly size: number,
    readonly options: AdamWOptions,
    /** 1 where weight decay applies (matrices), 0 where it does not (biases, gains). */
    readonly decayMask: Uint8Array,
  ) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  /** One update of `params` from `grads` at learning rate `lr`; returns the gradient's norm before clipping. */
  update(params: Float32Array, grads: Float32Array, lr: number): number {
    const { beta1, beta2, eps, weightDecay, clipNorm } = this.options;
    let sq = 0;
    for (let i = 0; i < this.size; i++) sq += (grads[i] as number) ** 2;
    const gradNorm = Math.sqrt(sq);
    const clip = gradNorm > clipNorm ? clipNorm / gradNorm : 1;
    this.step++;
    const c1 = 1 - beta1 ** this.step;
    const c2 = 1 - beta2 ** this.step;
    for (let i = 0; i < this.size; i++) {
      const gr = (grads[i] as number) * clip;
      const m = beta1 * (this.m[i] as number) + (1 - beta1) * gr;
      const v = beta2 * (this.v[i] as number) + (1 - beta2) * gr * gr;
      this.m[i] = m;
      this.v[i] = v;
      let p = params[i] as number;
      if (this.decayMask[i]) p -= lr * weightDecay * p;
      params[i] = p - (lr * (m / c1)) / (Math.sqrt(v / c2) + eps);
    }
    return gradNorm;
  }
}

/** Linear warm-up, then cosine decay to `floor` x the peak. */
export function learningRate(step: number, totalSteps: number, peak: number, warmup: number, floor = 0.1): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const progress = Math.min(1, (step - warmup) / Math.max(1, totalSteps - warmup));
  return peak * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}
