import { dropTopComponents } from '../core/bottomRank';
import type { MatrixBackend } from '../core/matrixBackend';
import { rowMatrix } from '../core/matrix';
import type { ModelFamily } from '../families/modelFamily';
import type { Checkpoint } from '../formats/checkpoint';
import { FormatError } from '../formats/formatError';
import { readTensorRows } from '../formats/tensorReader';
import { type PatchedFile, patchTensor, toStoredLayout } from '../formats/tensorPatch';
import { accurateTopTriplets } from './reversal';
import { readLayerRows } from './layerMatrix';

export interface RepairPlan {
  patch: PatchedFile;
  /** The file to write: the input file (or shard) that holds the layer, under its own name. */
  fileName: string;
  tensor: string;
  /** 'bottom-rank': W~(r, k); 'exact': the original's matrix (W' - dW with dW = W' - W). */
  mode: 'bottom-rank' | 'exact';
  k: number;
  /** The singular values that were removed (bottom-rank mode). */
  removed: number[];
  /** Other files of a sharded checkpoint stay as they are (the index too). */
  sharded: boolean;
}

/**
 * The repaired checkpoint file: identical to the input except the chosen layer's MLP output matrix,
 * replaced by W~(r, k) (or, with the original given, by the original's matrix) in the input's dtype and
 * layout. Nothing is written here: the plan streams (`patchedChunks`) wherever the caller writes.
 */
export async function planRepair(model: Checkpoint, layer: number, k: number, backend: MatrixBackend, options: { original?: Checkpoint | null; family?: ModelFamily; checkpoint?: () => void } = {}): Promise<RepairPlan> {
  const w = await readLayerRows(model, layer, options);
  const { info, tensor, family } = w.located;
  const rowsAxis = family.rowsAxis;
  const shards = new Set([...model.tensors.values()].map((t) => t.source));
  let values: Float32Array;
  let removed: number[] = [];
  let mode: RepairPlan['mode'] = 'bottom-rank';
  if (options.original) {
    const originalInfo = options.original.tensors.get(tensor);
    if (!originalInfo) throw new FormatError(options.original.label, `has no tensor ${tensor}: not the original of this model`);
    const o = await readTensorRows(originalInfo, rowsAxis, options.checkpoint);
    if (o.rows !== w.rows || o.cols !== w.cols) throw new FormatError(options.original.label, `layer ${layer} is ${o.rows} x ${o.cols}, the model's is ${w.rows} x ${w.cols}`);
    values = o.data;
    mode = 'exact';
  } else {
    if (k < 1) throw new FormatError(model.label, 'k must be at least 1: k = 0 would write the edited matrix unchanged');
    const m = rowMatrix(w.rows, w.cols, w.data);
    const svd = await accurateTopTriplets(backend, m, k, options.checkpoint);
    values = dropTopComponents(m, svd, k).data;
    removed = Array.from(svd.values);
  }
  const patch = patchTensor(info, toStoredLayout(w.rows, w.cols, values, rowsAxis));
  const name = info.source.name.split(/[\\/]/).pop() ?? info.source.name;
  return { patch, fileName: name, tensor, mode, k: mode === 'exact' ? 0 : k, removed, sharded: shards.size > 1 };
}
