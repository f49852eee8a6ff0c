// Worker thread of data-parallel training: computes one half-batch's gradients over the shared parameters.
import { parentPort, workerData } from 'node:worker_threads';
import { paramLayout, tensorsOver } from '../flatParams';
import type { Gpt2Config } from '../gpt2Model';
import { forgeArchitecture, type ForgeArchitectureId } from '../forgeArchitecture';
import { computeGradients } from '../trainer';
import type { TokenBatch } from '../trainingData';
import { useNativeEngine } from './nativeEngine';

useNativeEngine();

const { architecture, config, paramsBuffer, gradBuffer } = workerData as { architecture: ForgeArchitectureId; config: Gpt2Config; paramsBuffer: SharedArrayBuffer; gradBuffer: SharedArrayBuffer };
const arch = forgeArchitecture(architecture, config);
const layout = paramLayout(arch.paramShapes());
const grads = new Float32Array(gradBuffer);
const params = tensorsOver(layout, new Float32Array(paramsBuffer), grads);

parentPort?.on('message', (batch: TokenBatch) => {
  parentPort?.postMessage(computeGradients(arch, params, grads, batch));
});
