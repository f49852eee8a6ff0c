import type { OnnxModel } from '../onnx/onnxModel';

export interface GraphOptions {
  /** The layer whose MLP output matrix is the graph input `swap_weight`. */
  swapLayer: number;
  /** Tensor-name prefix (GPT-2: "transformer." or ""). */
  prefix?: string;
}

/** A built graph: the model, its external weight bytes, and the shape `swap_weight` must have. */
export interface BuiltGraph {
  model: OnnxModel;
  externalData: Uint8Array;
  externalName: string;
  swapShape: [number, number];
  /** Longest sequence the model takes (its position table). */
  maxPositions: number;
  /** Rows of the token embedding: every token id must be below it. */
  vocabSize?: number;
}
