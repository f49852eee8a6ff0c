import type { ByteSource } from '../formats/byteSource';
import { FormatError } from '../formats/formatError';
import { openSafetensors } from '../formats/safetensors';
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

/** An opened edit bundle: metadata of every edit, factors read on demand. */
export interface EditBundle {
  readonly file: string;
  readonly edits: readonly EditRecordMeta[];
  readonly info: Readonly<Record<string, string>>;
  /**
   * u [d_ff] and lambda [d_model] of edit `id` (float32, finite, checked); with `shape`, also checked against
   * the [rows x cols] matrix they will update (an error names the file and the edit).
   */
  factors(id: number, shape?: { rows: number; cols: number }): Promise<{ u: Float32Array; lambda: Float32Array }>;
}

const META_KEYS: readonly (keyof EditRecordMeta)[] = ['id', 'relation', 'subject', 'prompt', 'trueObject', 'newObject', 'layer'];

/**
 * Opens an edit bundle (README "Edit bundle format"), also one written by other tools (EasyEdit exports):
 * only `edits` metadata with id, relation, subject, prompt, trueObject, newObject and layer is required, and
 * each edit's two F32 vectors. Every problem names the file.
 */
export async function openEditBundle(source: ByteSource): Promise<EditBundle> {
  const file = source.name;
  const st = await openSafetensors(source);
  const raw = st.metadata['edits'];
  if (raw === undefined) throw new FormatError(file, 'not an edit bundle: the safetensors metadata has no "edits" entry');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (cause) {
    throw new FormatError(file, `"edits" metadata is not JSON (${cause instanceof Error ? cause.message : String(cause)})`);
  }
  if (!Array.isArray(parsed)) throw new FormatError(file, '"edits" metadata must be a JSON array');
  const seen = new Set<number>();
  const edits = parsed.map((entry: unknown, index): EditRecordMeta => {
    if (typeof entry !== 'object' || entry === null) throw new FormatError(file, `edit ${index} is not an object`);
    const e = entry as Record<string, unknown>;
    for (const key of META_KEYS) if (e[key] === undefined) throw new FormatError(file, `edit ${index} has no "${key}"`);
    if (!Number.isSafeInteger(e['id']) || (e['id'] as number) < 0) throw new FormatError(file, `edit ${index}: id must be a non-negative integer`);
    if (!Number.isSafeInteger(e['layer']) || (e['layer'] as number) < 0) throw new FormatError(file, `edit ${index}: layer must be a non-negative integer`);
    for (const key of ['relation', 'subject', 'prompt', 'trueObject', 'newObject'] as const) {
      if (typeof e[key] !== 'string') throw new FormatError(file, `edit ${index}: ${key} must be a string`);
    }
    if (!(e['prompt'] as string).includes('{}')) throw new FormatError(file, `edit ${index}: prompt must contain "{}" where the subject goes`);
    const id = e['id'] as number;
    if (seen.has(id)) throw new FormatError(file, `edit id ${id} appears twice`);
    seen.add(id);
    for (const part of ['u', 'lambda']) {
      const t = st.tensors.get(`edit.${id}.${part}`);
      if (!t) throw new FormatError(file, `edit ${id} has no tensor edit.${id}.${part}`);
      if (t.dtype !== 'F32' || t.shape.length !== 1) throw new FormatError(file, `must be a 1-D F32 vector, found ${t.dtype} [${t.shape.join(', ')}]`, t.name);
    }
    const metrics = (typeof e['metrics'] === 'object' && e['metrics'] !== null ? e['metrics'] : {}) as EditRecordMeta['metrics'];
    return {
      id,
      relation: e['relation'] as string,
      subject: e['subject'] as string,
      prompt: e['prompt'] as string,
      paraphrase: typeof e['paraphrase'] === 'string' ? e['paraphrase'] : '',
      trueObject: e['trueObject'] as string,
      newObject: e['newObject'] as string,
      layer: e['layer'] as number,
      mom2Adjustment: e['mom2Adjustment'] === true,
      main: e['main'] !== false,
      metrics,
    };
  });
  const info: Record<string, string> = {};
  for (const [k, v] of Object.entries(st.metadata)) if (k !== 'edits') info[k] = v;
  return {
    file,
    edits,
    info,
    async factors(id, shape) {
      const read = async (part: string) => {
        const t = st.tensors.get(`edit.${id}.${part}`);
        if (!t) throw new FormatError(file, `edit ${id} has no tensor edit.${id}.${part}`);
        const bytes = await t.source.read(t.begin, t.end - t.begin);
        const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
        if (!values.every(Number.isFinite)) throw new FormatError(file, 'contains NaN or infinite values', t.name);
        return values;
      };
      const f = { u: await read('u'), lambda: await read('lambda') };
      if (shape && (f.u.length !== shape.rows || f.lambda.length !== shape.cols)) {
        throw new FormatError(file, `edit ${id}: u has ${f.u.length} and lambda ${f.lambda.length} values, but the model's matrix is ${shape.rows} x ${shape.cols}: the bundle belongs to another model`);
      }
      return f;
    },
  };
}
