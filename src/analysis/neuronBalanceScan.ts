import { neuronBalance, type NeuronBalance } from '../core/neuronBalance';
import type { EditBundle, EditRecordMeta } from '../edit/editBundle';
import type { Checkpoint } from '../formats/checkpoint';
import { readTensorRows } from '../formats/tensorReader';
import { locateLayer, readLayerRows } from './layerMatrix';

/**
 * The SwiGLU up/down balance (core/neuronBalance) of a checkpoint's layers, and of edits rebuilt on them.
 * Only Llama-style MLPs have the symmetry: the up matrix is found beside the down matrix by its Hugging Face
 * name (`mlp.down_proj` -> `mlp.up_proj`); null for other families.
 */
export async function upRows(checkpoint: Checkpoint, layer: number): Promise<Float32Array | null> {
  const { tensor } = locateLayer(checkpoint, layer);
  if (!tensor.includes('mlp.down_proj')) return null;
  const info = checkpoint.tensors.get(tensor.replace('mlp.down_proj', 'mlp.up_proj'));
  // Stored [d_ff, d_model] (nn.Linear): already one row per neuron.
  return info && info.shape.length === 2 ? (await readTensorRows(info, 0)).data : null;
}

/** Every layer's balance, or null when the model has no SwiGLU up matrices. */
export async function layerBalances(checkpoint: Checkpoint, layers: number): Promise<NeuronBalance[] | null> {
  const out: NeuronBalance[] = [];
  for (let l = 0; l < layers; l++) {
    const up = await upRows(checkpoint, l);
    if (!up) return null;
    const down = await readLayerRows(checkpoint, l);
    out.push(neuronBalance(down.data, up, down.rows, down.cols));
  }
  return out;
}

/** The balance of each edit's layer with W + u lambda^T in place (rows orientation), the base read once per layer. */
export async function editedBalances(base: Checkpoint, bundle: EditBundle, edits: readonly EditRecordMeta[]): Promise<{ id: number; maxZ: number; factor: number }[]> {
  const cache = new Map<number, { down: Float32Array; up: Float32Array; rows: number; cols: number }>();
  const out: { id: number; maxZ: number; factor: number }[] = [];
  for (const e of edits) {
    let layer = cache.get(e.layer);
    if (!layer) {
      const down = await readLayerRows(base, e.layer);
      const up = await upRows(base, e.layer);
      if (!up) throw new Error(`${base.label}: layer ${e.layer} has no SwiGLU up matrix`);
      layer = { down: down.data, up, rows: down.rows, cols: down.cols };
      cache.set(e.layer, layer);
    }
    const { u, lambda } = await bundle.factors(e.id, { rows: layer.rows, cols: layer.cols });
    const edited = Float32Array.from(layer.down, (v, k) => v + (u[Math.floor(k / layer.cols)] as number) * (lambda[k % layer.cols] as number));
    const b = neuronBalance(edited, layer.up, layer.rows, layer.cols);
    out.push({ id: e.id, maxZ: b.maxZ, factor: b.factor });
  }
  return out;
}
