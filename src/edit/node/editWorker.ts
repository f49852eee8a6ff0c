// Worker thread of the edit set: runs ROME for each edit it is sent, on its own copy of the model.
import { parentPort, workerData } from 'node:worker_threads';
import { runEdit } from '../runEdit';
import type { EditSpec } from '../editPlan';
import { forgeByName } from '../forgeConfig';
import { forgeWorld } from './forgeWorld';
import { useNativeEngine } from './nativeEngine';
import { loadModel, romeContext } from './romeSetup';

useNativeEngine();

const { forgeName, modelDir, layer, templateLengths, overrides } = workerData as {
  forgeName: string;
  modelDir: string;
  layer: number;
  templateLengths: [number, number][];
  overrides: Record<string, number>;
};
const world = forgeWorld(forgeByName(forgeName));
const params = await loadModel(modelDir, world);
const ctx = romeContext(world, params, layer, templateLengths);

parentPort?.on('message', (spec: EditSpec) => {
  parentPort?.postMessage(runEdit(ctx, world.kb, spec, layer, overrides));
});
parentPort?.postMessage('ready');
