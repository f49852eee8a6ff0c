import { baseName, type ByteSource } from '../formats/byteSource';
import { FormatError } from '../formats/formatError';
import type { TensorInfo } from '../formats/safetensors';
import { type PatchedFile, patchedBlob, patchTensors, toStoredLayout, unpatched } from '../formats/tensorPatch';
import { locateLayer } from './layerMatrix';
import type { OpenedInput } from './modelInput';

/** Files that travel with the weights (the app and the CLI read them beside the checkpoint). */
export const SIBLING_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors.index.json'];

/** The edited checkpoint: each file that holds an edited layer, patched; the tensors' new bytes' fingerprint. */
export interface EditedCheckpointPlan {
  patches: PatchedFile[];
  /** The edited tensors' names, in layer order. */
  tensors: string[];
  /** SHA-256 (hex) of the edited tensors' stored bytes, in layer order: equal weights, equal fingerprint. */
  digest: string;
}

/** Plans the files of a checkpoint whose layers `layers` now hold `weight` ([d_ff, d_model], the analyses' orientation). */
export async function planEditedCheckpoint(opened: OpenedInput, layers: readonly { layer: number; weight: Float32Array }[]): Promise<EditedCheckpointPlan> {
  const bySource = new Map<ByteSource, { info: TensorInfo; stored: Float32Array }[]>();
  const tensors: string[] = [];
  for (const { layer, weight } of layers) {
    const { info, family, tensor } = locateLayer(opened.checkpoint, layer);
    const [rows, cols] = family.rowsAxis === 0 ? info.shape : [info.shape[1], info.shape[0]];
    if (rows === undefined || cols === undefined || rows * cols !== weight.length) throw new FormatError(opened.checkpoint.label, `layer ${layer}'s tensor is [${info.shape.join(', ')}], the edited weight has ${weight.length} values`, tensor);
    const list = bySource.get(info.source) ?? [];
    list.push({ info, stored: toStoredLayout(rows, cols, weight, family.rowsAxis) });
    bySource.set(info.source, list);
    tensors.push(tensor);
  }
  const patches = [...bySource].map(([source, replacements]) => patchTensors(source, replacements));
  const stored = patches.flatMap((p) => p.parts.flatMap((part) => (part.kind === 'bytes' ? [part.bytes] : [])));
  return { patches, tensors, digest: await sha256Hex(stored) };
}

/**
 * Every file of the edited checkpoint, by name: the patched weight files, every other weight file and the
 * siblings (config, tokenizer) unchanged. The page turns them into Blobs, the CLI streams them to disk.
 */
export async function editedCheckpointParts(opened: OpenedInput, plan: EditedCheckpointPlan): Promise<{ name: string; patch: PatchedFile }[]> {
  const patched = new Map(plan.patches.map((p) => [p.source, p]));
  const sources = new Set<ByteSource>([...opened.sources, ...[...opened.checkpoint.tensors.values()].map((t) => t.source)]);
  for (const name of SIBLING_FILES) {
    const sibling = await opened.resolve(name);
    if (sibling) sources.add(sibling);
  }
  const parts = new Map<string, PatchedFile>();
  for (const source of sources) {
    const name = baseName(source.name);
    if (!parts.has(name)) parts.set(name, patched.get(source) ?? unpatched(source));
  }
  return [...parts].map(([name, patch]) => ({ name, patch }));
}

/** The edited checkpoint as files the page loads like dropped ones (over dropped files, lazy slices of them). */
export async function editedCheckpointFiles(opened: OpenedInput, plan: EditedCheckpointPlan): Promise<File[]> {
  const files: File[] = [];
  for (const { name, patch } of await editedCheckpointParts(opened, plan)) files.push(new File([await patchedBlob(patch)], name, { type: 'application/octet-stream' }));
  return files;
}

async function sha256Hex(parts: readonly Uint8Array[]): Promise<string> {
  const total = parts.reduce((a, p) => a + p.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}
