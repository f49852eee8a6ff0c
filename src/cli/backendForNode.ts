import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { cpuBackend, type MatrixBackend } from '../core/matrixBackend';
import { requestGpuContext } from '../gpu/gpuContext';
import { gpuBackend } from '../gpu/gpuMatrix';
import { nativeBackend } from '../native/nativeMatrixBackend';
import { nativeWorkerBackend } from '../native/nativeWorkerBackend';
import { UsageError } from './argv';
import type { TextRuntime } from '../lm/languageModel';
import { WASM_RUNTIME_CAPACITY } from '../lm/modelNeeds';
import { nodeTextRuntime } from '../native/nodeTextRuntime';

/** A Vulkan driver manifest exists: only then can Dawn find an adapter (and without one it prints a warning). */
function vulkanDriverPresent(): boolean {
  if (process.env['VK_ICD_FILENAMES'] || process.env['VK_DRIVER_FILES']) return true;
  return ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'].some((dir) => existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.json')));
}

/**
 * Where the CLI computes. `cpu`: native kernels (onnxruntime-node) where they load, else TypeScript. `auto`:
 * WebGPU through Dawn when a hardware adapter exists, else the CPU: a software adapter (SwiftShader) is
 * slower than the CPU, and without a Vulkan driver Dawn is not even asked. `webgpu` forces Dawn, software
 * adapters included (the tests run the WGSL kernels that way).
 */
export async function backendForNode(choice: 'auto' | 'webgpu' | 'cpu'): Promise<MatrixBackend> {
  const cores = availableParallelism();
  // With 4 cores or more, the kernels run in a thread of their own (cores - 1 for them, one for reading and
  // screening the next layer meanwhile). With fewer, the two only take turns for the same cores: measured
  // on 2 cores, a GPT-2 XL-shaped scan took 11.7 s that way against 10.4-11.1 s on one thread.
  const cpu = (cores >= 4 ? nativeWorkerBackend(Math.min(8, cores - 1)) : nativeBackend(Math.min(8, cores))) ?? cpuBackend;
  if (choice === 'cpu' || (choice === 'auto' && !vulkanDriverPresent())) return cpu;
  try {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    const ctx = await requestGpuContext(create([]));
    if (ctx && (choice === 'webgpu' || !ctx.software)) return gpuBackend(ctx);
  } catch (error) {
    if (choice === 'webgpu') throw new Error(`WebGPU is unavailable: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (choice === 'webgpu') throw new Error('WebGPU is unavailable: no adapter found');
  return cpu;
}

/** The --backend option, checked, chosen and said in one line on stderr (stdout stays the report). */
export async function chooseBackend(option: string | undefined, say: (line: string) => void): Promise<MatrixBackend> {
  const choice = option ?? 'auto';
  if (choice !== 'auto' && choice !== 'webgpu' && choice !== 'cpu') throw new UsageError('--backend must be auto, webgpu or cpu');
  const backend = await backendForNode(choice);
  say(`edit-forensics: computing on ${backend.description}\n`);
  return backend;
}

/**
 * How the CLI runs language models: onnxruntime-node's native kernels (weights streamed to a temporary
 * file, no 4 GiB ceiling) where the package loads, else onnxruntime-web's wasm with weights in memory and its
 * 4 GiB limit checked beforehand. EDIT_FORENSICS_NATIVE=0 asks for wasm (the page's runtime) on purpose.
 */
export async function textRuntimeForNode(): Promise<TextRuntime> {
  const native = process.env['EDIT_FORENSICS_NATIVE'] === '0' ? null : nodeTextRuntime();
  if (native) return native;
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  return { ort, executionProvider: 'wasm', capacity: WASM_RUNTIME_CAPACITY, halfTypes: ['F16', 'BF16'] };
}
