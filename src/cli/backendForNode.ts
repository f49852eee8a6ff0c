import { cpuBackend, type MatrixBackend } from '../core/matrixBackend';
import { requestGpuContext } from '../gpu/gpuContext';
import { gpuBackend } from '../gpu/gpuMatrix';

/**
 * WebGPU through Dawn (the `webgpu` package) where an adapter exists, else the CPU. `choice` forces one;
 * forcing webgpu without an adapter is an error.
 */
export async function backendForNode(choice: 'auto' | 'webgpu' | 'cpu'): Promise<MatrixBackend> {
  if (choice === 'cpu') return cpuBackend;
  try {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    const ctx = await requestGpuContext(create([]));
    if (ctx) return gpuBackend(ctx);
  } catch (error) {
    if (choice === 'webgpu') throw new Error(`WebGPU is unavailable: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (choice === 'webgpu') throw new Error('WebGPU is unavailable: no adapter found');
  return cpuBackend;
}
