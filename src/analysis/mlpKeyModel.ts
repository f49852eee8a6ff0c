import { screenEntries } from '../core/entryScreen';
import type { MlpKeyModel } from '../core/keyWhitening';
import { rowMatrix } from '../core/matrix';
import type { ModelFamily } from '../families/modelFamily';
import type { Checkpoint } from '../formats/checkpoint';
import { FormatError } from '../formats/formatError';
import { readTensorRows, readTensorVector } from '../formats/tensorReader';

/**
 * The input side of the MLP whose output matrix is `outputTensor` (core/keyWhitening's key model), read by
 * the family's names relative to the layer's prefix; null when the family does not say where it is or a
 * tensor is absent (a partial checkpoint): the key-whitened statistic is then not computed. The input
 * matrices go through the scan's entry screen (non-finite and outlier entries set to zero) and vectors lose
 * their non-finite entries, so a planted value cannot blow the sampled keys up.
 */
export async function readMlpKeyModel(model: Checkpoint, family: ModelFamily, outputTensor: string, dFf: number, dModel: number): Promise<MlpKeyModel | null> {
  const layout = family.mlpInputs;
  const at = outputTensor.lastIndexOf('mlp.');
  if (!layout || at < 0) return null;
  const prefix = outputTensor.slice(0, at);
  const info = (name: string | undefined) => (name === undefined ? undefined : model.tensors.get(prefix + name));
  const needed = [layout.normWeight, layout.input, layout.normBias, layout.inputBias, layout.gate].filter((n): n is string => n !== undefined);
  if (needed.some((n) => !info(n))) return null;
  const matrix = async (name: string) => {
    const t = info(name);
    if (!t) return null;
    const rows = await readTensorRows(t, layout.inputNeuronAxis);
    if (rows.rows !== dFf || rows.cols !== dModel) {
      throw new FormatError(t.source.name, `is ${rows.rows} x ${rows.cols} (neurons x d_model) where the MLP output matrix has ${dFf} x ${dModel}`, t.name);
    }
    screenEntries(rowMatrix(rows.rows, rows.cols, rows.data));
    return rows.data;
  };
  const vector = async (name: string | undefined, length: number) => {
    const t = info(name);
    return t ? zeroNonFinite(await readTensorVector(t, length)) : null;
  };
  return {
    dModel,
    dFf,
    normWeight: (await vector(layout.normWeight, dModel)) as Float32Array,
    normBias: await vector(layout.normBias, dModel),
    input: (await matrix(layout.input)) as Float32Array,
    inputBias: await vector(layout.inputBias, dFf),
    gate: layout.gate ? await matrix(layout.gate) : null,
  };
}

function zeroNonFinite(values: Float32Array): Float32Array {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i] as number)) values[i] = 0;
  return values;
}
