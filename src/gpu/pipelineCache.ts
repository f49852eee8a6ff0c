import { SHADER_SOURCES, type ShaderName } from './shaderSources';

const cache = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

/** Compiles each (shader, override constants) pair once per device: compiling costs 0.1-0.7 s on software adapters. */
export function computePipeline(device: GPUDevice, shader: ShaderName, constants: Record<string, number> = {}): Promise<GPUComputePipeline> {
  let perDevice = cache.get(device);
  if (!perDevice) {
    perDevice = new Map();
    cache.set(device, perDevice);
  }
  const key = `${shader}:${JSON.stringify(constants)}`;
  let pipeline = perDevice.get(key);
  if (!pipeline) {
    const module = device.createShaderModule({ label: shader, code: SHADER_SOURCES[shader] });
    pipeline = device.createComputePipelineAsync({ label: key, layout: 'auto', compute: { module, entryPoint: 'main', constants } });
    perDevice.set(key, pipeline);
  }
  return pipeline;
}
