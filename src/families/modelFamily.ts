/**
 * Where a model family keeps its MLP output matrix (the paper's W_V) and which stored axis indexes its
 * d_ff rows. Everything downstream works on rows of length d_model, as in the paper.
 */
export interface ModelFamily {
  readonly id: string;
  readonly description: string;
  /** config.json `model_type` values that mean this family. */
  readonly modelTypes: readonly string[];
  /** Matches the MLP output matrix's tensor name; capture group 1 is the layer index. */
  readonly mlpOutputPattern: RegExp;
  /** Stored axis that indexes the d_ff rows: 0 for GPT-2's Conv1D [d_ff, d_model], 1 for nn.Linear [d_model, d_ff]. */
  readonly rowsAxis: 0 | 1;
  /** The MLP's input side (for the key-whitened spectrum); absent where the family does not say. */
  readonly mlpInputs?: MlpInputLayout;
}

/**
 * Where the MLP's input side lies, as tensor names relative to the layer's prefix (the output matrix's name
 * up to `mlp.`, e.g. `transformer.h.3.`): the norm before the MLP, the input matrix (one row per neuron along
 * `inputNeuronAxis`), and SwiGLU's gate.
 */
export interface MlpInputLayout {
  readonly normWeight: string;
  readonly normBias?: string;
  readonly input: string;
  readonly inputBias?: string;
  readonly inputNeuronAxis: 0 | 1;
  readonly gate?: string;
}

/** The MLP output matrix of one layer, located in a checkpoint. */
export interface LayerMatrix {
  readonly layer: number;
  readonly tensor: string;
}

/**
 * Lists the MLP output matrices a family finds among tensor names, in layer order. Two names may claim one
 * layer (`h.0.mlp.c_proj.weight` beside `transformer.h.0.mlp.c_proj.weight`): both are listed, and the caller
 * refuses the checkpoint rather than pick one silently.
 */
export function findLayerMatrices(family: ModelFamily, tensorNames: Iterable<string>): LayerMatrix[] {
  const found: LayerMatrix[] = [];
  for (const name of tensorNames) {
    const match = family.mlpOutputPattern.exec(name);
    if (!match?.[1]) continue;
    found.push({ layer: Number(match[1]), tensor: name });
  }
  return found.sort((a, b) => a.layer - b.layer || (a.tensor < b.tensor ? -1 : 1));
}
