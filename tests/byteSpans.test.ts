import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NodeFileSource } from '../src/cli/nodeFileSource';
import { BlobSource, type ByteSource, MemorySource, readSpans } from '../src/formats/byteSource';
import { bytesPerElement, decodeToFloat32 } from '../src/formats/dtypes';
import { openSafetensors } from '../src/formats/safetensors';
import { writeSafetensors } from '../src/formats/safetensorsWriter';
import { decodeTensorRows, readTensorBytes, readTensorRows } from '../src/formats/tensorReader';

const bytes = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 7919) % 251);
const dir = mkdtempSync(join(tmpdir(), 'ef-spans-'));
const path = join(dir, 'bytes.bin');
writeFileSync(path, bytes);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(source: ByteSource, offset: number, length: number, span: number): Promise<{ joined: Uint8Array; sizes: number[] }> {
  const joined = new Uint8Array(length);
  const sizes: number[] = [];
  let at = 0;
  for await (const s of readSpans(source, offset, length, span)) {
    joined.set(s, at); // copied now: a span is valid only until the next
    at += s.length;
    sizes.push(s.length);
  }
  return { joined: joined.subarray(0, at), sizes };
}

const sources: [string, () => Promise<ByteSource>][] = [
  ['a Blob (stream reader into one buffer)', async () => new BlobSource(new Blob([bytes]), 'bytes.bin')],
  ['memory (plain reads)', async () => new MemorySource('bytes.bin', bytes)],
  ['a file on disk (positioned reads into one buffer)', () => NodeFileSource.open(path)],
];

describe('reading a span of a file in pieces (readSpans)', () => {
  for (const [name, open] of sources) {
    it(`${name}: every piece in order, all of the requested span and nothing else, in exact piece sizes`, async () => {
      const source = await open();
      for (const [offset, length, span] of [[0, 100_003, 4096], [17, 50_000, 999], [99_000, 1003, 5000], [5, 0, 64]] as const) {
        const { joined, sizes } = await collect(source, offset, length, span);
        expect(joined).toEqual(bytes.subarray(offset, offset + length));
        expect(sizes.slice(0, -1).every((s) => s === Math.min(span, length))).toBe(true);
      }
    });

    it(`${name}: two reads at once do not share a buffer; a span past the end is refused, naming the file`, async () => {
      const source = await open();
      const [a, b] = await Promise.all([collect(source, 0, 30_000, 1000), collect(source, 40_000, 30_000, 1000)]);
      expect(a.joined).toEqual(bytes.subarray(0, 30_000));
      expect(b.joined).toEqual(bytes.subarray(40_000, 70_000));
      await expect(collect(source, 100_000, 10, 4)).rejects.toThrow(/bytes\.bin/);
    });
  }
});

/**
 * A Blob whose reads stall the way Chromium's sometimes do: its stream delivers `streamBytes` and then
 * never again; its first `stalledSlices` arrayBuffer() calls never settle.
 */
function stallingBlob(data: Uint8Array, streamBytes: number, stalledSlices: number): Blob & { slices: number } {
  const real = new Blob([data as Uint8Array<ArrayBuffer>]);
  let stalls = stalledSlices;
  const fake = {
    size: data.length,
    slices: 0,
    slice(begin: number, end: number) {
      fake.slices++;
      const part = real.slice(begin, end);
      return {
        size: part.size,
        arrayBuffer: () => (stalls-- > 0 ? new Promise<ArrayBuffer>(() => undefined) : part.arrayBuffer()),
        stream: () => {
          let sent = 0;
          return new ReadableStream({
            type: 'bytes',
            async pull(controller) {
              const view = controller.byobRequest!.view as Uint8Array;
              if (sent >= streamBytes) return new Promise<void>(() => undefined); // delivers nothing, ever
              const n = Math.min(view.byteLength, streamBytes - sent, part.size - sent);
              view.set(new Uint8Array(await part.slice(sent, sent + n).arrayBuffer()));
              sent += n;
              controller.byobRequest!.respond(n);
            },
          });
        },
      };
    },
  };
  return fake as unknown as Blob & { slices: number };
}

describe('a Blob read that stalls (Chromium, sometimes) is taken again, never hangs', () => {
  it('a stream that stops delivering: the rest comes through fresh slices, every byte right', async () => {
    const source = new BlobSource(stallingBlob(bytes, 10_000, 0), 'stalls.bin', 50);
    const { joined, sizes } = await collect(source, 3, 90_000, 4096);
    expect(joined).toEqual(bytes.subarray(3, 90_003));
    expect(sizes.slice(0, -1).every((n) => n === 4096)).toBe(true);
  });

  it('a slice read that stalls is read again; one that always stalls fails naming the file, in bounded time', async () => {
    const once = stallingBlob(bytes, 0, 1);
    expect(await new BlobSource(once, 'once.bin', 50).read(100, 500)).toEqual(bytes.subarray(100, 600));
    expect(once.slices).toBe(2);
    const always = new BlobSource(stallingBlob(bytes, 0, 1000), 'dead.bin', 30);
    const t0 = performance.now();
    await expect(always.read(0, 10)).rejects.toThrow(/dead\.bin: the browser delivered no bytes at offset 0 for 3 x 0 s/);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

/** The first index where two arrays differ (NaN differs from everything), -1 when none: vitest's deep equality takes minutes on millions of entries. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe('reading a matrix stored [d_model, d_ff] as d_ff rows (GPT-J, Llama), over several 4 MB chunks', () => {
  // 1003 stored rows of 2999: several chunks (4 MB each), the last one partial; odd sizes everywhere. An even
  // width too (BF16 then decodes two neighbouring values per load).
  for (const [dtype, d0, d1] of [['F32', 1003, 2999], ['F16', 1003, 2999], ['BF16', 1003, 2999], ['BF16', 1001, 3000], ['F16', 1001, 3000]] as const) {
    it(`${dtype}, ${d0} x ${d1}: every entry lands transposed, equal to decoding the stored matrix entry by entry`, async () => {
      const values = Float32Array.from({ length: d0 * d1 }, (_, i) => Math.sin(i * 0.001) * 3 + (i % 7) / 8);
      const file = writeSafetensors([{ name: 'w', dtype, shape: [d0, d1], values }]);
      const info = (await openSafetensors(new MemorySource('w.safetensors', file))).tensors.get('w');
      const { rows, cols, data } = await readTensorRows(info!, 1);
      expect([rows, cols]).toEqual([d1, d0]);
      // The stored values as the file holds them (rounded to the dtype), one entry at a time.
      const stored = new Float32Array(d0 * d1);
      decodeToFloat32(dtype, file.subarray(info!.begin, info!.begin + d0 * d1 * bytesPerElement(dtype)), stored);
      for (let r = 0; r < d1; r += 37) for (let c = 0; c < d0; c++) expect(data[r * cols + c]).toBe(stored[c * d1 + r]);
      for (let c = 0; c < d0; c++) expect(data[(d1 - 1) * cols + c]).toBe(stored[c * d1 + d1 - 1]);
    });

    it(`${dtype}, ${d0} x ${d1}: the stored bytes read first (into a larger reused buffer), then decoded in either orientation, give every entry`, async () => {
      const values = Float32Array.from({ length: d0 * d1 }, (_, i) => Math.cos(i * 0.0007) * 2 - (i % 5) / 4);
      const file = writeSafetensors([{ name: 'w', dtype, shape: [d0, d1], values }]);
      const info = (await openSafetensors(new MemorySource('w.safetensors', file))).tensors.get('w')!;
      const length = d0 * d1 * bytesPerElement(dtype);
      const reuse = new Uint8Array(length + 11).fill(0xab);
      const bytes = await readTensorBytes(info, undefined, reuse);
      expect(bytes.buffer).toBe(reuse.buffer);
      expect(firstDifference(bytes, file.subarray(info.begin, info.begin + length))).toBe(-1);
      const stored = new Float32Array(d0 * d1);
      decodeToFloat32(dtype, file.subarray(info.begin, info.begin + length), stored);
      const kept = new Float32Array(d0 * d1).fill(Number.NaN);
      decodeTensorRows(info, 0, bytes, kept);
      expect(firstDifference(kept, stored)).toBe(-1);
      const transposed = new Float32Array(d0 * d1).fill(Number.NaN);
      decodeTensorRows(info, 1, bytes, transposed);
      const expected = new Float32Array(d0 * d1);
      for (let r = 0; r < d1; r++) for (let c = 0; c < d0; c++) expected[r * d0 + c] = stored[c * d1 + r] as number;
      expect(firstDifference(transposed, expected)).toBe(-1);
      expect(() => decodeTensorRows(info, 0, bytes.subarray(1), kept)).toThrow(RangeError);
    });
  }
});
