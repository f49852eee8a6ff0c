import type { OnnxModel } from '../onnx/onnxModel';
import type { WeightSink } from '../onnx/weightSink';

export interface GraphOptions {
  /** The layer whose MLP output matrix is the graph input `swap_weight`. */
  swapLayer: number;
  /** Tensor-name prefix (GPT-2: "transformer." or ""). */
  prefix?: string;
  /** Where the weights go (default: memory). */
  sink?: WeightSink;
}

/** A built graph: the model, the sink holding its external weights, and the shape `swap_weight` must have. */
export interface BuiltGraph {
  model: OnnxModel;
  weights: WeightSink;
  externalName: string;
  swapShape: [number, number];
  /** Longest sequence the model takes (its position table). */
  maxPositions: number;
  /** Rows of the token embedding: every token id must be below it. */
  vocabSize?: number;
}
