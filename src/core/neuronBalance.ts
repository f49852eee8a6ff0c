import { MAD_TO_SIGMA, median, medianAbsoluteDeviation } from './robustStats';

/**
 * Up/down balance of a SwiGLU MLP (Llama), a statistic beyond the paper. Neuron i computes
 * silu(gate_i . x) (up_i . x) down_i: scaling up_i by a and down_i by 1/a leaves the function unchanged, so
 * gradient flow conserves ||up_i||^2 - ||down_i||^2 and weight decay drives every neuron to ||up_i|| =
 * ||down_i|| (the smallest norm for the same function). ROME changes down_i (row i of the update u lambda^T)
 * and not up_i; without the mom2 adjustment u is a SwiGLU key, carried by a few neurons, whose balance then
 * breaks. The statistic: the largest robust z of log(||down_i|| / ||up_i||) over the layer's neurons.
 */
export interface NeuronBalance {
  /** log(||down_i|| / ||up_i||) per neuron. */
  logRatios: Float64Array;
  /** Robust z ((x - median) / (1.4826 MAD)) of the most down-heavy neuron. */
  maxZ: number;
  /** That neuron. */
  neuron: number;
  /** Its ||down|| / ||up|| over the layer's median ratio. */
  factor: number;
}

/** Floor of the spread of log ratios (0.1%): float32 rounding of a perfectly balanced layer is not imbalance. */
const MIN_LOG_SCALE = 1e-3;

/** `down` as rows [d_ff x d_model] (the analyses' orientation), `up` as stored by nn.Linear [d_ff x d_model]. */
export function neuronBalance(down: Float32Array, up: Float32Array, dFF: number, dModel: number): NeuronBalance {
  if (down.length !== dFF * dModel || up.length !== dFF * dModel) throw new RangeError(`neuronBalance: ${down.length} / ${up.length} values for ${dFF} x ${dModel}`);
  const logRatios = new Float64Array(dFF);
  for (let i = 0; i < dFF; i++) {
    let d = 0;
    let u = 0;
    for (let j = 0; j < dModel; j++) {
      d += (down[i * dModel + j] as number) ** 2;
      u += (up[i * dModel + j] as number) ** 2;
    }
    // A dead neuron (both zero) is balanced; one side zero is as unbalanced as the float range allows.
    logRatios[i] = d === 0 && u === 0 ? 0 : 0.5 * (Math.log(d || Number.MIN_VALUE) - Math.log(u || Number.MIN_VALUE));
  }
  const values = Array.from(logRatios);
  const m = median(values);
  const scale = Math.max(MAD_TO_SIGMA * medianAbsoluteDeviation(values), MIN_LOG_SCALE);
  let neuron = 0;
  for (let i = 1; i < dFF; i++) if ((logRatios[i] as number) > (logRatios[neuron] as number)) neuron = i;
  const excess = (logRatios[neuron] as number) - m;
  return { logRatios, maxZ: excess / scale, neuron, factor: Math.exp(excess) };
}
