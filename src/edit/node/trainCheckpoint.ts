import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { MemorySource } from '../../formats/byteSource';
import { openSafetensors } from '../../formats/safetensors';
import { writeSafetensors } from '../../formats/safetensorsWriter';
import { readTensorRows } from '../../formats/tensorReader';
import type { TrainState } from '../trainer';

/** Saves parameters, optimizer moments and progress atomically (write, then rename), so a stopped run resumes. */
export function saveTrainState(path: string, state: TrainState, fingerprint: string): void {
  const bytes = writeSafetensors(
    [
      { name: 'params', dtype: 'F32', shape: [1, state.flat.length], values: state.flat },
      { name: 'adam.m', dtype: 'F32', shape: [1, state.flat.length], values: state.adam.m },
      { name: 'adam.v', dtype: 'F32', shape: [1, state.flat.length], values: state.adam.v },
    ],
    { fingerprint, epoch: String(state.epoch), adamStep: String(state.adam.step), history: JSON.stringify(state.history) },
  );
  writeFileSync(`${path}.tmp`, bytes);
  renameSync(`${path}.tmp`, path);
}

/** Restores a saved state into `state` if one exists for the same run (same fingerprint); returns whether it did. */
export async function loadTrainState(path: string, state: TrainState, fingerprint: string): Promise<boolean> {
  if (!existsSync(path)) return false;
  const file = await openSafetensors(new MemorySource(path, new Uint8Array(readFileSync(path))));
  if (file.metadata['fingerprint'] !== fingerprint) return false;
  const read = async (name: string) => (await readTensorRows(file.tensors.get(name)!, 0)).data;
  state.flat.set(await read('params'));
  state.adam.m.set(await read('adam.m'));
  state.adam.v.set(await read('adam.v'));
  state.adam.step = Number(file.metadata['adamStep']);
  state.epoch = Number(file.metadata['epoch']);
  state.history = JSON.parse(file.metadata['history'] ?? '[]');
  return true;
}
