/**
 * The object's methods, run one at a time in call order (except `immediate` ones, such as cancel). A worker's
 * comlink calls arrive concurrently; onnxruntime-web's wasm sessions must never run, open or release while
 * another call is using them (two overlapping calls corrupted its memory: "memory access out of bounds").
 */
export function serialized<T extends object>(target: T, immediate: readonly string[] = []): T {
  let tail: Promise<unknown> = Promise.resolve();
  return new Proxy(target, {
    get(t, prop) {
      const value = Reflect.get(t, prop, t) as unknown;
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (immediate.includes(String(prop))) return method.bind(t);
      return (...args: unknown[]) => {
        const run = tail.then(() => method.apply(t, args));
        tail = run.catch(() => undefined);
        return run;
      };
    },
  });
}
