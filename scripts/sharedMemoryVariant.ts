const OWN_MEMORY = '(memory (export "memory") 1)';

/** gemm.wat with its own exported memory replaced by an imported shared one (env.memory, 1 to 65536 pages). */
export function sharedMemoryVariant(text: string): string {
  if (!text.includes(OWN_MEMORY)) throw new Error(`shaders/gemm.wat no longer declares ${OWN_MEMORY}`);
  return text.replace(OWN_MEMORY, '(import "env" "memory" (memory 1 65536 shared))');
}
