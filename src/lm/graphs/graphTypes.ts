import type { OnnxModel } from '../onnx/onnxModel';
import type { WeightSink } from '../onnx/weightSink';
import type { WeightPrecision } from '../onnx/graphBuilder';

export interface GraphOptions {
  /** The layer whose MLP output matrix is the graph input `swap_weight`. */
  swapLayer: number;
  /** Tensor-name prefix (GPT-2: "transformer." or ""). */
  prefix?: string;
  /** Where the weights go (default: memory). */
  sink?: WeightSink;
  /** Which weights stay 16-bit in the graph (default: none; every weight float32). */
  precision?: WeightPrecision;
}

/** A built graph: the model, the sink holding its external weights, and the shape `swap_weight` must have. */
export interface BuiltGraph {
  model: OnnxModel;
  weights: WeightSink;
  /** Some weights are 16-bit and cast where used: the session must not fold the casts (see graphSessionOptions). */
  castsWeights: boolean;
  swapShape: [number, number];
  /** Longest sequence the model takes (its position table). */
  maxPositions: number;
  /** Rows of the token embedding: every token id must be below it. */
  vocabSize?: number;
}
