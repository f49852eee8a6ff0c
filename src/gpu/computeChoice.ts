import { type GpuContext, requestGpuContext } from './gpuContext';

/** Where heavy work may run: `auto` avoids software GPUs; `webgpu` and `cpu` force one (the link's ?backend=). */
export type ComputePreference = 'auto' | 'webgpu' | 'cpu';

export function parseComputePreference(value: string | null | undefined): ComputePreference {
  return value === 'webgpu' || value === 'cpu' ? value : 'auto';
}

/**
 * The GPU to compute on, or null and the reason the CPU is used instead. A software adapter (SwiftShader,
 * llvmpipe: the only one on a machine without a GPU) is slower than the CPU path for every job here
 * (README "Tests and benchmarks"), so `auto` passes it over.
 */
export async function chooseGpu(preference: ComputePreference, gpu?: GPU): Promise<{ ctx: GpuContext | null; reason: string | null }> {
  if (preference === 'cpu') return { ctx: null, reason: 'the CPU was chosen (backend=cpu)' };
  let ctx: GpuContext | null;
  try {
    ctx = await requestGpuContext(gpu ?? globalThis.navigator?.gpu);
  } catch (error) {
    return { ctx: null, reason: `WebGPU failed to start (${error instanceof Error ? error.message : String(error)})` };
  }
  if (!ctx) return { ctx: null, reason: (gpu ?? globalThis.navigator?.gpu) ? 'no WebGPU adapter was found' : 'this browser has no WebGPU' };
  if (ctx.software && preference === 'auto') {
    ctx.device.destroy();
    return { ctx: null, reason: `the only WebGPU adapter (${ctx.adapterName}) is a software renderer, slower than the CPU here (add backend=webgpu to the link to use it anyway)` };
  }
  return { ctx, reason: null };
}
