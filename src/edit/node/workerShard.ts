import { Worker } from 'node:worker_threads';
import type { Gpt2Config } from '../gpt2Model';
import type { ForgeArchitectureId } from '../forgeArchitecture';
import type { GradientShard } from '../trainer';
import type { TokenBatch } from '../trainingData';

/** A gradient shard on a worker thread, sharing the parameter vector through shared memory. */
export function workerShard(architecture: ForgeArchitectureId, config: Gpt2Config, paramsBuffer: SharedArrayBuffer, size: number): GradientShard & { close(): Promise<number> } {
  const gradBuffer = new SharedArrayBuffer(size * 4);
  const worker = new Worker(new URL('./gradientWorker.ts', import.meta.url), { workerData: { architecture, config, paramsBuffer, gradBuffer } });
  let pending: ((r: { loss: number; tokens: number }) => void) | null = null;
  let failure: ((e: Error) => void) | null = null;
  worker.on('message', (r: { loss: number; tokens: number }) => pending?.(r));
  worker.on('error', (e) => failure?.(e));
  return {
    grads: new Float32Array(gradBuffer),
    run(batch: TokenBatch) {
      return new Promise((resolve, reject) => {
        pending = resolve;
        failure = reject;
        worker.postMessage(batch);
      });
    },
    close: () => worker.terminate(),
  };
}
