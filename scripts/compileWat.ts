/** WAT text to a WebAssembly binary with wabt (a dev dependency: the build script and the tests use it). */
export async function compileWat(name: string, text: string): Promise<Uint8Array> {
  const wabt = await (await import('wabt')).default();
  const features = { simd: true, bulk_memory: true, threads: true };
  const module = wabt.parseWat(name, text, features);
  try {
    (module.validate as (f: typeof features) => void)(features); // the typings omit its features argument
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}
