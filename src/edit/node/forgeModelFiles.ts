import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemorySource } from '../../formats/byteSource';
import { openSafetensors } from '../../formats/safetensors';
import { readTensorRows } from '../../formats/tensorReader';
import type { EditableModel } from '../editableModel';
import { Tensor } from '../engine/tensor';
import { type ForgeArchitecture, forgeArchitecture } from '../forgeArchitecture';
import type { ForgeConfig } from '../forgeConfig';
import { forgeWorld, type ForgeWorld } from './forgeWorld';

/** A trained forge model of any architecture, read back from its folder (`.cache/forge/NAME/base`, or public/demo/base for the demo). */
export async function loadForgeModel(forge: ForgeConfig, dir: string): Promise<{ world: ForgeWorld; arch: ForgeArchitecture; model: EditableModel }> {
  const world = forgeWorld(forge);
  const arch = forgeArchitecture(forge.architecture ?? 'gpt2', world.config);
  const path = join(dir, 'base', 'model.safetensors');
  const file = await openSafetensors(new MemorySource(path, new Uint8Array(readFileSync(path))));
  const params = new Map<string, Tensor>();
  for (const [name, shape] of arch.paramShapes()) {
    const info = file.tensors.get(name);
    if (!info) throw new Error(`${path} has no tensor ${name}`);
    const rows = shape.length === 2 ? info : { ...info, shape: [1, shape[0] as number] };
    params.set(name, new Tensor((await readTensorRows(rows, 0)).data, shape, false));
  }
  return { world, arch, model: arch.editable(params) };
}
