import type { GpuContext } from '../gpu/gpuContext';
import type { HalfType } from './onnx/graphBuilder';
import { formatBytes, type RuntimeCapacity, WASM_RUNTIME_CAPACITY } from './modelNeeds';

/** How the page runs a language model, for the GPU it chose (see chooseGpu): what it can hold, which casts it has. */
export interface PageRuntimeChoice {
  executionProvider: 'wasm' | 'webgpu';
  capacity: RuntimeCapacity;
  halfTypes: readonly HalfType[];
}

/**
 * On a hardware WebGPU adapter the weights go straight to the GPU (onnxruntime-web uploads external data from
 * the page's arrays, never through its 4 GiB WebAssembly heap), 16-bit ones kept as stored where the adapter
 * has shader-f16; the limit a browser states is the largest buffer (WebGPU does not say how much memory the
 * GPU has). Without a GPU: the wasm runtime, its heap, and the CPU's casts of F16 and BF16.
 */
export function pageRuntimeChoice(gpu: Pick<GpuContext, 'adapterName' | 'maxBindingBytes' | 'shaderF16'> | null): PageRuntimeChoice {
  if (!gpu) return { executionProvider: 'wasm', capacity: WASM_RUNTIME_CAPACITY, halfTypes: ['F16', 'BF16'] };
  return {
    executionProvider: 'webgpu',
    capacity: {
      bytes: Number.POSITIVE_INFINITY,
      bufferBytes: gpu.maxBindingBytes,
      preferHalf: true,
      limit: `this GPU (${gpu.adapterName}) holds at most ${formatBytes(gpu.maxBindingBytes)} in one buffer`,
      instead: 'the command line (`edit-forensics generate`) runs it on native kernels',
    },
    halfTypes: gpu.shaderF16 ? ['F16'] : [],
  };
}
