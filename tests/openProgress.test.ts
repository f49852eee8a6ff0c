import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { openTextModel } from '../src/analysis/textModel';
import { MemorySource, resolverFromSources } from '../src/formats/byteSource';
import { openCheckpoint } from '../src/formats/checkpoint';
import { loadTokenizer } from '../src/lm/tokenizer';

ort.env.wasm.numThreads = 1;
const BASE = 'public/demo/base';

describe.skipIf(!existsSync(BASE))('opening a language model says how far it is', () => {
  it('weight bytes stored so far, never going back, up to every weight of the float32 graph; then the session', async () => {
    const sources = readdirSync(BASE).map((f) => new MemorySource(f, new Uint8Array(readFileSync(join(BASE, f)))));
    const checkpoint = await openCheckpoint(sources, resolverFromSources(sources), BASE);
    const tokenizer = loadTokenizer({ name: 'tokenizer.json', bytes: readFileSync(join(BASE, 'tokenizer.json')) });
    const calls: [number, number, string][] = [];
    const model = await openTextModel(ort, checkpoint, tokenizer, 0, { onProgress: (done, total, message) => calls.push([done, total, message]) });
    // The demo's float32 graph holds every parameter once (tied head): 4 bytes each, counted from the header here.
    let parameters = 0;
    for (const t of checkpoint.tensors.values()) parameters += t.shape.reduce((a, b) => a * b, 1);
    const total = 4 * parameters;
    expect(calls.length).toBeGreaterThanOrEqual(2);
    for (const [i, [done, t]] of calls.entries()) {
      expect(t).toBe(total);
      expect(done).toBeLessThanOrEqual(total);
      if (i > 0) expect(done).toBeGreaterThanOrEqual((calls[i - 1] as [number, number, string])[0]);
    }
    expect(calls[0]?.[2]).toMatch(/^reading the weights: [\d.]+ [KMG]?i?B of 2 MiB$/);
    expect(calls.at(-1)).toEqual([total, total, 'opening the session (onnxruntime)']);
    await model.lm.release();
  });
});
