import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readObjectDecoder } from '../src/analysis/objectDecoderFile';
import { parseProbe } from '../src/analysis/relationProbeFile';
import { openEditBundle, writeEditBundle } from '../src/edit/editBundle';
import { type Gpt2Config, initGpt2 } from '../src/edit/gpt2Model';
import { gpt2Editable } from '../src/edit/editableModel';
import { MemorySource, resolverFromSources } from '../src/formats/byteSource';
import { openCheckpoint } from '../src/formats/checkpoint';
import { CancelledError, FormatError } from '../src/formats/formatError';
import { readModelConfig } from '../src/formats/modelConfig';
import { openSafetensors } from '../src/formats/safetensors';
import { writeSafetensors } from '../src/formats/safetensorsWriter';
import { readTensorRows } from '../src/formats/tensorReader';
import { UrlSource } from '../src/formats/urlSource';
import { loadTokenizer } from '../src/lm/tokenizer';
import { buildFixture } from './fixtures/syntheticCheckpoint';

/**
 * Property-based fuzzing of every reader of user files (README "Errors"): seeded, bounded, asserting only the
 * contract. Whatever the bytes, a reader returns a result or throws a FormatError naming the file: no other
 * exception, no hang, bounded memory. Counts are printed for README.
 */
const SEED = 20261202;
const counts = new Map<string, { cases: number; rejected: number }>();

/** Runs `read`; a FormatError naming `file` is fine, anything else fails the property. */
async function contract(name: string, file: string, read: () => Promise<unknown>): Promise<void> {
  const c = counts.get(name) ?? { cases: 0, rejected: 0 };
  counts.set(name, c);
  c.cases++;
  try {
    await read();
  } catch (error) {
    if (!(error instanceof FormatError)) throw new Error(`${name}: ${file} raised ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    if (!error.message.startsWith(`${error.file}: `) || error.file.length === 0) throw new Error(`${name}: the message does not name a file: ${error.message}`);
    c.rejected++;
  }
}

/** Byte-level damage: a truncation and up to 12 overwritten bytes (some in the first 64, where headers live). */
const byteDamage = fc.record({
  cut: fc.option(fc.nat(), { nil: undefined }),
  flips: fc.array(fc.record({ at: fc.nat(), head: fc.boolean(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 12 }),
});
function damage(bytes: Uint8Array, d: { cut: number | undefined; flips: { at: number; head: boolean; value: number }[] }): Uint8Array {
  const out = Uint8Array.from(d.cut === undefined ? bytes : bytes.subarray(0, d.cut % (bytes.length + 1)));
  for (const f of d.flips) if (out.length) out[(f.head ? f.at % Math.min(64, out.length) : f.at) % out.length] = f.value;
  return out;
}

/** JSON-level damage: at a random path, delete the key, or replace its value with any JSON value. */
const jsonDamage = fc.array(fc.record({ path: fc.nat(), remove: fc.boolean(), value: fc.jsonValue({ maxDepth: 2 }) }), { minLength: 1, maxLength: 3 });
function paths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = [], limit = 2000): (string | number)[][] {
  if (out.length >= limit || typeof value !== 'object' || value === null) return out;
  for (const [k, v] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
    out.push([...prefix, k]);
    paths(v, [...prefix, k], out, limit);
  }
  return out;
}
function damageJson(value: unknown, edits: { path: number; remove: boolean; value: unknown }[]): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  for (const e of edits) {
    const all = paths(copy);
    if (all.length === 0) return e.value;
    const path = all[e.path % all.length] as (string | number)[];
    let parent = copy as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
    const key = path[path.length - 1] as string | number;
    if (e.remove && !Array.isArray(parent)) delete parent[key];
    else parent[key] = e.value;
  }
  return copy;
}
const encode = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

const safetensorsSeed = writeSafetensors(
  [
    { name: 'a', dtype: 'F32', shape: [3, 4], values: Float32Array.from({ length: 12 }, (_, i) => i) },
    { name: 'b', dtype: 'F16', shape: [5, 2], values: Float32Array.from({ length: 10 }, (_, i) => i / 3) },
    { name: 'c', dtype: 'BF16', shape: [2, 3], values: Float32Array.from({ length: 6 }, (_, i) => -i) },
  ],
  { format: 'pt' },
);

describe('fuzz: readers of user files keep the error contract', () => {
  it('safetensors (header and data, every dtype decoded)', async () => {
    await fc.assert(
      fc.asyncProperty(byteDamage, async (d) => {
        const bytes = damage(safetensorsSeed, d);
        await contract('safetensors', 'model.safetensors', async () => {
          const file = await openSafetensors(new MemorySource('model.safetensors', bytes));
          for (const info of file.tensors.values()) if (info.shape.length === 2) await readTensorRows(info, 1);
        });
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });

  it('sharded checkpoint: index.json and shards', async () => {
    const fixture = buildFixture({ family: 'llama', layers: 3, dFf: 12, dModel: 6, editedLayer: 1, positiveFraction: 0.5, shards: 2, seed: 3 });
    const index = fixture.edited.find((f) => f.name.endsWith('.index.json'))!;
    const indexJson = JSON.parse(new TextDecoder().decode(index.bytes));
    await fc.assert(
      fc.asyncProperty(jsonDamage, byteDamage, fc.nat(3), async (edits, d, which) => {
        const files = fixture.edited.map((f) => (f === index ? { ...f, bytes: encode(damageJson(indexJson, edits)) } : f.name.endsWith('.safetensors') && which === 0 ? { ...f, bytes: damage(f.bytes, d) } : f));
        const sources = files.map((f) => new MemorySource(f.name, f.bytes));
        await contract('sharded index', index.name, () => openCheckpoint(sources, resolverFromSources(sources)));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('config.json', async () => {
    const config = JSON.parse(readFileSync('public/demo/base/config.json', 'utf8'));
    await fc.assert(
      fc.asyncProperty(jsonDamage, byteDamage, fc.boolean(), async (edits, d, bytes) => {
        const data = bytes ? damage(encode(config), d) : encode(damageJson(config, edits));
        await contract('config.json', 'config.json', () => readModelConfig(new MemorySource('config.json', data)));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('tokenizer.json (loaded, then encoding and decoding a sentence)', async () => {
    const tokenizer = JSON.parse(readFileSync('public/demo/base/tokenizer.json', 'utf8'));
    await fc.assert(
      fc.asyncProperty(jsonDamage, async (edits) => {
        const bytes = encode(damageJson(tokenizer, edits));
        await contract('tokenizer.json', 'tokenizer.json', async () => {
          const t = loadTokenizer({ name: 'tokenizer.json', bytes });
          t.decode(t.encode('The mother tongue of Greta is English .'));
        });
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('edit bundle (metadata and vectors)', async () => {
    const record = (id: number) => ({ id, relation: 'P103', subject: 'Ana Bo', prompt: 'The mother tongue of {} is', paraphrase: '{} speaks', trueObject: 'English', newObject: 'French', layer: 0, mom2Adjustment: true, main: true, metrics: { efficacy: true, paraphrase: 1, neighbourhood: 1, steps: 3, finalLoss: 0.1, deltaRatio: 1 }, u: Float32Array.from({ length: 8 }, (_, i) => i - 3), lambda: Float32Array.from({ length: 4 }, (_, i) => i) });
    const seed = writeEditBundle([record(0), record(1)], { model: 'fuzz' });
    await fc.assert(
      fc.asyncProperty(byteDamage, async (d) => {
        await contract('edit bundle', 'edits.safetensors', async () => {
          const bundle = await openEditBundle(new MemorySource('edits.safetensors', damage(seed, d)));
          for (const e of bundle.edits) await bundle.factors(e.id, { rows: 8, cols: 4 });
        });
      }),
      { seed: SEED, numRuns: 800 },
    );
  });

  it('relation probe JSON', async () => {
    const probe = JSON.parse(readFileSync('public/demo/relation-probe.json', 'utf8'));
    await fc.assert(
      fc.asyncProperty(jsonDamage, async (edits) => {
        const text = JSON.stringify(damageJson(probe, edits));
        await contract('relation probe', 'probe.json', async () => parseProbe('probe.json', text));
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('object decoder safetensors', async () => {
    const bytes = readFileSync('public/demo/object-decoder.safetensors');
    const config = JSON.parse(readFileSync('public/demo/base/config.json', 'utf8')) as Gpt2Config;
    const model = gpt2Editable(config, initGpt2(config, 1));
    await fc.assert(
      fc.asyncProperty(byteDamage, async (d) => {
        await contract('object decoder', 'decoder.safetensors', () => readObjectDecoder(new MemorySource('decoder.safetensors', damage(new Uint8Array(bytes), d)), model));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('fuzz: URL reads against a server that misbehaves at random (127.0.0.1 only)', () => {
  let server: Server;
  let base = '';
  const body = safetensorsSeed;
  /** Per request, the behaviour the test set for the next requests. */
  let plan: { status: number; cut: number; totalLie: number; delayMs: number; dropHeader: boolean }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const step = plan.shift() ?? { status: 206, cut: -1, totalLie: 0, delayMs: 0, dropHeader: false };
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      const first = Number(range?.[1] ?? 0);
      const last = Math.min(Number(range?.[2] ?? body.length - 1), body.length - 1);
      let slice = body.subarray(Math.min(first, body.length), last + 1);
      if (step.cut >= 0) slice = slice.subarray(0, step.cut % (slice.length + 1));
      const headers: Record<string, string | number> = step.dropHeader ? {} : { 'Content-Range': `bytes ${first}-${last}/${body.length + step.totalLie}` };
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(step.status, headers).end(Buffer.from(slice));
      }, step.delayMs);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.safetensors`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('opening and reading every tensor: a result or a FormatError, within the timeouts', async () => {
    const step = fc.record({
      status: fc.constantFrom(206, 206, 206, 200, 404, 416, 500, 302),
      cut: fc.oneof(fc.constant(-1), fc.nat(64)),
      totalLie: fc.oneof(fc.constant(0), fc.integer({ min: -40, max: 40 })),
      delayMs: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 250 })),
      dropHeader: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 6 }), async (steps) => {
        plan = [...steps];
        await contract('URL source', base, async () => {
          const source = await UrlSource.open(base, { stallTimeoutMs: 150, minBytesPerSecond: 1e6 });
          const file = await openSafetensors(source);
          for (const info of file.tensors.values()) if (info.shape.length === 2) await readTensorRows(info, 0);
        });
        plan = [];
      }),
      { seed: SEED, numRuns: 250 },
    );
  }, 120_000);

  it('cancelled reads end with CancelledError, not a hang', async () => {
    plan = [{ status: 206, cut: -1, totalLie: 0, delayMs: 5_000, dropHeader: false }];
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    await expect(UrlSource.open(base, { signal: controller.signal })).rejects.toBeInstanceOf(CancelledError);
  });
});

afterAll(() => {
  const rows = [...counts.entries()].map(([name, c]) => `${name}: ${c.cases} cases, ${c.rejected} rejected with a FormatError, ${c.cases - c.rejected} read`);
  console.log(`fuzz (seed ${SEED}):\n  ${rows.join('\n  ')}\n  heap in use after the run: ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB`);
});
