import type { GpuContext } from '../../src/gpu/gpuContext';
import { requestGpuContext } from '../../src/gpu/gpuContext';

let pending: Promise<GpuContext | null> | null = null;

/**
 * A WebGPU context from Dawn (the `webgpu` package) on whatever Vulkan driver is visible: SwiftShader
 * via scripts/with-swiftshader.sh on machines without a GPU. With REQUIRE_WEBGPU=1 (set by `npm test`)
 * a missing adapter fails the run instead of skipping GPU cases.
 */
export function nodeGpuContext(): Promise<GpuContext | null> {
  pending ??= (async () => {
    try {
      const { create, globals } = await import('webgpu');
      Object.assign(globalThis, globals);
      return await requestGpuContext(create([]));
    } catch (error) {
      if (process.env['REQUIRE_WEBGPU'] === '1') throw error;
      return null;
    }
  })();
  return pending;
}

export async function requireOrSkip(): Promise<GpuContext | null> {
  const ctx = await nodeGpuContext();
  if (!ctx && process.env['REQUIRE_WEBGPU'] === '1') throw new Error('REQUIRE_WEBGPU=1 but no WebGPU adapter was found (is Chromium installed for its SwiftShader driver?)');
  return ctx;
}
