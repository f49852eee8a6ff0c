/** An acquired WebGPU device and the limits that decide how matrices are tiled. */
export interface GpuContext {
  readonly device: GPUDevice;
  readonly adapterName: string;
  /** Largest buffer a shader may bind as storage (bytes). */
  readonly maxBindingBytes: number;
  readonly maxWorkgroupsPerDimension: number;
  /** The adapter computes in float16 (a language model's F16 weights can stay F16 on it). */
  readonly shaderF16: boolean;
  /** A software rasteriser (SwiftShader, llvmpipe): slower than the CPU path for this work. */
  readonly software: boolean;
  /** Held so that bindings which free the instance with its last reference (Dawn in Node) keep it alive. */
  readonly keepAlive: readonly unknown[];
}

/**
 * Requests an adapter and a device with the adapter's largest buffer limits (the defaults, 128 MiB, would
 * force needless tiling). Returns null where WebGPU or an adapter is missing; the caller uses the CPU.
 */
export async function requestGpuContext(gpu: GPU | undefined = globalThis.navigator?.gpu): Promise<GpuContext | null> {
  if (!gpu) return null;
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return null;
  const maxStorage = adapter.limits.maxStorageBufferBindingSize;
  const maxBuffer = adapter.limits.maxBufferSize;
  const device = await adapter.requestDevice({
    requiredLimits: { maxStorageBufferBindingSize: maxStorage, maxBufferSize: maxBuffer },
  });
  const info = adapter.info;
  const adapterName = [info?.vendor, info?.architecture, info?.device, info?.description].filter((s) => s).join(' ') || 'unknown adapter';
  const fallback = (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter === true || (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return {
    device,
    adapterName,
    maxBindingBytes: Math.min(maxStorage, maxBuffer),
    maxWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
    shaderF16: adapter.features.has('shader-f16'),
    software: fallback || /swiftshader|llvmpipe|lavapipe|software/i.test(adapterName),
    keepAlive: [gpu, adapter],
  };
}
