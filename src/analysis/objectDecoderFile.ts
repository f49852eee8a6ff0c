import { Tensor } from '../edit/engine/tensor';
import type { EditableModel } from '../edit/editableModel';
import type { ByteSource } from '../formats/byteSource';
import { FormatError } from '../formats/formatError';
import { openSafetensors } from '../formats/safetensors';
import { writeSafetensors } from '../formats/safetensorsWriter';
import { readTensorRows } from '../formats/tensorReader';
import { type ObjectDecoder, tunedParamNames } from './objectDecoder';

/** A trained object decoder as safetensors: the input embeddings and the tuned layer's weights. */
export const DECODER_FORMAT = 'edit-forensics-object-decoder';

export function writeObjectDecoder(decoder: ObjectDecoder, info: Record<string, string> = {}): Uint8Array {
  const tensors = [{ name: 'decoder.input_embeddings', dtype: 'F32' as const, shape: [decoder.inputTokens, decoder.inputEmbeddings.length / decoder.inputTokens], values: decoder.inputEmbeddings }];
  for (const [name, t] of decoder.layerParams) tensors.push({ name, dtype: 'F32', shape: [...t.shape], values: t.data });
  return writeSafetensors(tensors, { ...info, format: DECODER_FORMAT, version: '1', tunedLayer: String(decoder.tunedLayer), editLayer: String(decoder.editLayer) });
}

/** Opens a decoder for `model` (any family the engine runs); every problem names the file. */
export async function readObjectDecoder(source: ByteSource, model: EditableModel): Promise<ObjectDecoder> {
  const file = source.name;
  const st = await openSafetensors(source);
  if (st.metadata['format'] !== DECODER_FORMAT) throw new FormatError(file, `is not an object decoder (metadata format is not "${DECODER_FORMAT}")`);
  const layerOf = (key: string): number => {
    const v = Number(st.metadata[key]);
    if (!Number.isSafeInteger(v) || v < 0 || v >= model.layers) throw new FormatError(file, `metadata ${key} must be a layer of the model (0..${model.layers - 1})`);
    return v;
  };
  const tunedLayer = layerOf('tunedLayer');
  const editLayer = layerOf('editLayer');
  const read = async (name: string, shape: number[]): Promise<Float32Array> => {
    const info = st.tensors.get(name);
    if (!info) throw new FormatError(file, `has no tensor ${name}`);
    if (info.dtype !== 'F32' || info.shape.join(',') !== shape.join(',')) throw new FormatError(file, `must be F32 [${shape.join(', ')}] for this model, found ${info.dtype} [${info.shape.join(', ')}]`, name);
    const data = (await readTensorRows(shape.length === 2 ? info : { ...info, shape: [1, shape[0] as number] }, 0)).data;
    if (!data.every(Number.isFinite)) throw new FormatError(file, 'contains NaN or infinite values', name);
    return data;
  };
  const embeddingsInfo = st.tensors.get('decoder.input_embeddings');
  const inputTokens = embeddingsInfo?.shape[0] ?? 0;
  if (!(inputTokens >= 1 && inputTokens <= model.positions)) throw new FormatError(file, `decoder.input_embeddings must hold 1..${model.positions} rows`);
  const inputEmbeddings = await read('decoder.input_embeddings', [inputTokens, model.dModel]);
  const layerParams = new Map<string, Tensor>();
  for (const [name, shape] of tunedParamNames(model, tunedLayer, editLayer)) layerParams.set(name, new Tensor(await read(name, shape), shape, false));
  return { tunedLayer, editLayer, inputEmbeddings, inputTokens, layerParams };
}
