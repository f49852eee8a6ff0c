/** WAT text to a WebAssembly binary with wabt (a dev dependency: the build script and the tests use it). */
export async function compileWat(name: string, text: string): Promise<Uint8Array> {
  const wabt = await (await import('wabt')).default();
  const module = wabt.parseWat(name, text, { simd: true, bulk_memory: true });
  try {
    module.validate();
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}
