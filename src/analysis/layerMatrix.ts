import type { ModelFamily } from '../families/modelFamily';
import type { Checkpoint } from '../formats/checkpoint';
import { FormatError } from '../formats/formatError';
import type { TensorInfo } from '../formats/safetensors';
import { type Float32Rows, readTensorRows } from '../formats/tensorReader';
import { resolveLayers } from './scanModel';

/** One layer's MLP output matrix in a checkpoint: its tensor, and the family that says how to read it. */
export interface LocatedLayer {
  family: ModelFamily;
  tensor: string;
  info: TensorInfo;
}

/** Finds layer `layer`'s MLP output matrix, or explains (naming the checkpoint) why there is none. */
export function locateLayer(model: Checkpoint, layer: number, family?: ModelFamily): LocatedLayer {
  const match = resolveLayers(model, family);
  const entry = match.layers.find((l) => l.layer === layer);
  const info = entry && model.tensors.get(entry.tensor);
  if (!entry || !info) throw new FormatError(model.label, `has no layer ${layer} (layers ${match.layers[0]?.layer}-${match.layers[match.layers.length - 1]?.layer})`);
  return { family: match.family, tensor: entry.tensor, info };
}

/** That matrix as float32 rows [d_ff, d_model] (the analyses' orientation). */
export async function readLayerRows(model: Checkpoint, layer: number, options: { family?: ModelFamily; checkpoint?: () => void } = {}): Promise<Float32Rows & { located: LocatedLayer }> {
  const located = locateLayer(model, layer, options.family);
  return { ...(await readTensorRows(located.info, located.family.rowsAxis, options.checkpoint)), located };
}
