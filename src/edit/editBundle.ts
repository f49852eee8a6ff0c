import { type TensorToWrite, writeSafetensors } from '../formats/safetensorsWriter';

/** Metadata of one edit in a bundle (README: "Edit bundle format"). */
export interface EditRecordMeta {
  id: number;
  relation: string;
  subject: string;
  prompt: string;
  paraphrase: string;
  trueObject: string;
  newObject: string;
  layer: number;
  mom2Adjustment: boolean;
  /** The main set (false: the comparison set of the other mom2Adjustment setting). */
  main: boolean;
  metrics: { efficacy: boolean; paraphrase: number; neighbourhood: number; steps: number; finalLoss: number; deltaRatio: number };
}

export interface EditRecord extends EditRecordMeta {
  u: Float32Array;
  lambda: Float32Array;
}

/**
 * An edit bundle: one safetensors file with `edit.{i}.u` [d_ff] and `edit.{i}.lambda` [d_model] (the edited
 * matrix in [d_ff, d_model] orientation is W + u lambda^T) and the edits' metadata as JSON in `__metadata__.edits`.
 */
export function writeEditBundle(records: readonly EditRecord[], info: Record<string, string>): Uint8Array {
  const tensors: TensorToWrite[] = [];
  for (const r of records) {
    tensors.push({ name: `edit.${r.id}.u`, dtype: 'F32', shape: [r.u.length], values: r.u });
    tensors.push({ name: `edit.${r.id}.lambda`, dtype: 'F32', shape: [r.lambda.length], values: r.lambda });
  }
  const metas: EditRecordMeta[] = records.map(({ u: _u, lambda: _l, ...meta }) => meta);
  return writeSafetensors(tensors, { ...info, format: 'edit-forensics-edit-bundle', version: '1', edits: JSON.stringify(metas) });
}
