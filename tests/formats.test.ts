import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySource, resolverFromSources } from '../src/formats/byteSource';
import { openCheckpoint } from '../src/formats/checkpoint';
import { decodeToFloat32, encodeFromFloat32, float32ArrayToBfloat16Bits, float32ArrayToFloat16Bits, float32ToBfloat16Bits, float32ToFloat16Bits } from '../src/formats/dtypes';
import { FormatError } from '../src/formats/formatError';
import { openSafetensors } from '../src/formats/safetensors';
import { assemble, writeSafetensors } from '../src/formats/safetensorsWriter';
import { readTensorRows } from '../src/formats/tensorReader';
import { UrlSource, urlSiblingResolver } from '../src/formats/urlSource';
import { buildFixture } from './fixtures/syntheticCheckpoint';

const mem = (name: string, bytes: Uint8Array) => new MemorySource(name, bytes);

async function openError(name: string, bytes: Uint8Array): Promise<FormatError> {
  try {
    await openSafetensors(mem(name, bytes));
  } catch (error) {
    expect(error).toBeInstanceOf(FormatError);
    return error as FormatError;
  }
  throw new Error('expected a FormatError');
}

describe('safetensors header validation: each problem has its own message naming the file and tensor', () => {
  const good = { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] };

  it('reads a valid file and its metadata', async () => {
    const bytes = writeSafetensors([{ name: 'w', dtype: 'F32', shape: [2, 3], values: Float32Array.from([1, 2, 3, 4, 5, 6]) }], { format: 'pt' });
    const file = await openSafetensors(mem('ok.safetensors', bytes));
    expect(file.metadata['format']).toBe('pt');
    const info = file.tensors.get('w')!;
    expect(info.shape).toEqual([2, 3]);
    const rows = await readTensorRows(info, 0);
    expect(Array.from(rows.data)).toEqual([1, 2, 3, 4, 5, 6]);
    const transposed = await readTensorRows(info, 1);
    expect([transposed.rows, transposed.cols]).toEqual([3, 2]);
    expect(Array.from(transposed.data)).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('rejects a file shorter than the length prefix', async () => {
    expect((await openError('tiny.safetensors', new Uint8Array(5))).message).toMatch(/^tiny\.safetensors: too small/);
  });

  it('rejects a header length over 100 MB', async () => {
    const bytes = new Uint8Array(64);
    new DataView(bytes.buffer).setBigUint64(0, 200_000_000n, true);
    bytes[8] = 0x7b;
    expect((await openError('big.safetensors', bytes)).message).toMatch(/^big\.safetensors: is not a safetensors file, or is corrupt: its header length 200000000 exceeds/);
  });

  it('rejects a header length past the end of the file', async () => {
    const bytes = new Uint8Array(64);
    new DataView(bytes.buffer).setBigUint64(0, 1000n, true);
    bytes[8] = 0x7b;
    expect((await openError('cut.safetensors', bytes)).message).toMatch(/is cut short or corrupt: its header length 1000 runs past the end of the file \(64 bytes\)/);
  });

  it('rejects bad JSON', async () => {
    expect((await openError('bad.safetensors', assemble('{"w": {', []))).message).toMatch(/^bad\.safetensors: header is not valid UTF-8 JSON/);
  });

  it('rejects a header that is not an object', async () => {
    expect((await openError('arr.safetensors', assemble('[1,2]', []))).message).toMatch(/is not a safetensors file: byte 8 should open the JSON header with "\{" but is 0x5b \("\["\)/);
    expect((await openError('null.safetensors', assemble('null', []))).message).toMatch(/is not a safetensors file: byte 8 /);
  });

  it('says first that a text file renamed .safetensors is not a safetensors file', async () => {
    const text = new TextEncoder().encode('Hello, this is a README renamed to model.safetensors.\n');
    expect((await openError('model.safetensors', text)).message).toBe('model.safetensors: is not a safetensors file: byte 8 should open the JSON header with "{" but is 0x68 ("h") (the file starts with text)');
  });

  it('refuses a header length one byte short (JSON still valid: every tensor would be read shifted), a hole, and trailing bytes', async () => {
    const good = writeSafetensors([
      { name: 'a', dtype: 'F32', shape: [2], values: Float32Array.from([1, 2]) },
      { name: 'b', dtype: 'F32', shape: [3], values: Float32Array.from([3, 4, 5]) },
    ]);
    const length = Number(new DataView(good.buffer).getBigUint64(0, true));
    const short = Uint8Array.from(good);
    new DataView(short.buffer).setBigUint64(0, BigInt(length - 1), true);
    // The header is padded with spaces, so the JSON parses without its last byte.
    expect(new TextDecoder().decode(good.subarray(8 + length - 1, 8 + length))).toBe(' ');
    expect((await openError('short.safetensors', short)).message).toMatch(/short\.safetensors: the tensors cover 20 of the 21 data bytes/);
    const trailing = new Uint8Array(good.length + 4);
    trailing.set(good);
    expect((await openError('trailing.safetensors', trailing)).message).toMatch(/the tensors cover 20 of the 24 data bytes/);
    const hole = assemble(JSON.stringify({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }), [new Uint8Array(12)]);
    expect((await openError('hole.safetensors', hole)).message).toMatch(/tensor "b": data bytes 4\.\.8 belong to no tensor/);
  });

  it('refuses a header of more than 100,000 tensors before parsing it', async () => {
    const entries = Array.from({ length: 100_001 }, (_, i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`).join(',');
    expect((await openError('many.safetensors', assemble(`{${entries}}`, []))).message).toMatch(/header lists about 100001 tensors, over the limit of 100000/);
  });

  it('rejects unknown dtypes, naming the tensor', async () => {
    const e = await openError('dt.safetensors', assemble(JSON.stringify({ w: { ...good, dtype: 'Q4_K' } }), [new Uint8Array(16)]));
    expect(e.message).toBe('dt.safetensors: tensor "w": unknown dtype "Q4_K"');
    expect(e.tensor).toBe('w');
  });

  it('rejects data offsets out of range', async () => {
    const e = await openError('range.safetensors', assemble(JSON.stringify({ w: { ...good, data_offsets: [0, 64] } }), [new Uint8Array(16)]));
    expect(e.message).toMatch(/tensor "w": data_offsets \[0, 64\] are out of range: the data section has 16 bytes/);
  });

  it('rejects reversed or malformed offsets', async () => {
    const e = await openError('rev.safetensors', assemble(JSON.stringify({ w: { ...good, data_offsets: [16, 0] } }), [new Uint8Array(16)]));
    expect(e.message).toMatch(/tensor "w": data_offsets is not a pair/);
  });

  it('rejects overlapping tensors', async () => {
    const header = { a: { ...good, data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } };
    const e = await openError('overlap.safetensors', assemble(JSON.stringify(header), [new Uint8Array(16)]));
    expect(e.message).toMatch(/tensor "b": data overlaps tensor "a"/);
  });

  it('rejects a shape x dtype size that disagrees with the byte span', async () => {
    const e = await openError('shape.safetensors', assemble(JSON.stringify({ w: { ...good, shape: [3, 2] } }), [new Uint8Array(16)]));
    expect(e.message).toMatch(/tensor "w": shape \[3, 2\] of F32 needs 24 bytes but data_offsets span 16/);
  });

  it('rejects negative or fractional shape entries', async () => {
    const e = await openError('neg.safetensors', assemble(JSON.stringify({ w: { ...good, shape: [-1, 4] } }), [new Uint8Array(16)]));
    expect(e.message).toMatch(/tensor "w": shape is not a list of non-negative integers/);
  });

  it('opens a file with a known but unreadable dtype, and says "unsupported dtype" when that tensor is read', async () => {
    const file = await openSafetensors(mem('int.safetensors', assemble(JSON.stringify({ w: { dtype: 'I32', shape: [2, 2], data_offsets: [0, 16] } }), [new Uint8Array(16)])));
    await expect(readTensorRows(file.tensors.get('w')!, 0)).rejects.toThrow('int.safetensors: tensor "w": unsupported dtype I32 (readable: F32, F16, BF16)');
  });

  it('rejects a tensor that is not 2-D when a matrix is read', async () => {
    const file = await openSafetensors(mem('vec.safetensors', writeSafetensors([{ name: 'v', dtype: 'F32', shape: [4], values: new Float32Array(4) }])));
    await expect(readTensorRows(file.tensors.get('v')!, 0)).rejects.toThrow(/expected a 2-D matrix, found shape \[4\]/);
  });

  it('survives random garbage without crashing or hanging', async () => {
    for (let seed = 0; seed < 200; seed++) {
      const bytes = new Uint8Array(16 + (seed % 50));
      for (let i = 0; i < bytes.length; i++) bytes[i] = (seed * 2654435761 + i * 40503) & 0xff;
      await expect(openSafetensors(mem(`garbage${seed}`, bytes))).rejects.toBeInstanceOf(FormatError);
    }
  });
});

describe('dtypes', () => {
  it('decodes F16 and BF16 bit patterns to their exact float32 values', () => {
    const half = new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff, 0x7c00, 0x0000, 0x8000]);
    const out = new Float32Array(half.length);
    decodeToFloat32('F16', new Uint8Array(half.buffer), out);
    expect(Array.from(out)).toEqual([1, -2, 0.333251953125, 2 ** -24, 65504, Infinity, 0, -0]);
    const bf = new Uint16Array([0x3f80, 0xc040, 0x4049]);
    decodeToFloat32('BF16', new Uint8Array(bf.buffer), out);
    expect(Array.from(out.slice(0, 3))).toEqual([1, -3, 3.140625]);
  });

  it('encodes with round-to-nearest-even and decodes back', () => {
    expect(float32ToFloat16Bits(1)).toBe(0x3c00);
    expect(float32ToFloat16Bits(65520)).toBe(0x7c00); // rounds up to infinity
    expect(float32ToFloat16Bits(2 ** -25)).toBe(0); // halfway to the smallest subnormal: ties to even (0)
    expect(float32ToFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie to even
    expect(float32ToBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie to even
    expect(float32ToBfloat16Bits(1 + 3 * 2 ** -9)).toBe(0x3f81);
    const values = Float32Array.from([0.1, -7.25, 1e-3, 300]);
    for (const dtype of ['F16', 'BF16'] as const) {
      const back = new Float32Array(4);
      decodeToFloat32(dtype, encodeFromFloat32(dtype, values), back);
      values.forEach((v, i) => expect(Math.abs((back[i] as number) - v) / Math.abs(v)).toBeLessThan(dtype === 'F16' ? 1e-3 : 8e-3));
    }
  });

  it('the array encoders give the element functions\' bits for every exponent, sign and rounding case', () => {
    // Every sign and exponent, mantissas at the rounding boundaries of both formats and a few others.
    const mantissas = [0, 1, 0x0fff, 0x1000, 0x1001, 0x2000, 0x3000, 0x7fff, 0x8000, 0x8001, 0x18000, 0x7fe000, 0x7ff000, 0x7fffff, 0x2aaaaa];
    const bits = new Uint32Array(2 * 256 * mantissas.length);
    let n = 0;
    for (const sign of [0, 1]) for (let e = 0; e < 256; e++) for (const m of mantissas) bits[n++] = ((sign << 31) | (e << 23) | m) >>> 0;
    const values = new Float32Array(bits.buffer);
    const half = float32ArrayToFloat16Bits(values);
    const brain = float32ArrayToBfloat16Bits(values);
    values.forEach((v, i) => {
      expect(half[i]).toBe(float32ToFloat16Bits(v));
      expect(brain[i]).toBe(float32ToBfloat16Bits(v));
    });
    // A view into a larger buffer is read from its own offset.
    const view = values.subarray(1001, 1011);
    expect(Array.from(float32ArrayToFloat16Bits(view))).toEqual(Array.from(view, float32ToFloat16Bits));
  });
});

describe('checkpoints', () => {
  it('opens a sharded checkpoint through its index and reads tensors from the right shard', async () => {
    const fixture = buildFixture({ family: 'llama', layers: 4, dFf: 40, dModel: 12, editedLayer: 1, positiveFraction: 0.5, shards: 3 });
    const sources = fixture.edited.map((f) => mem(f.name, f.bytes));
    const ckpt = await openCheckpoint(sources, resolverFromSources(sources));
    expect(ckpt.config?.modelType).toBe('llama');
    const info = ckpt.tensors.get('model.layers.3.mlp.down_proj.weight')!;
    expect(info.source.name).toMatch(/-of-00003\.safetensors$/);
    expect(info.shape).toEqual([12, 40]);
  });

  it('names the missing shard', async () => {
    const fixture = buildFixture({ family: 'gpt2', layers: 3, dFf: 16, dModel: 8, editedLayer: null, positiveFraction: 0.5, shards: 2 });
    const sources = fixture.edited.filter((f) => !f.name.startsWith('model-00002')).map((f) => mem(f.name, f.bytes));
    await expect(openCheckpoint(sources, resolverFromSources(sources))).rejects.toThrow(
      /model\.safetensors\.index\.json: shard "model-00002-of-00002\.safetensors" \(\d+ tensors\) is missing/,
    );
  });

  it('refuses index entries that are not plain file names (no path tricks, no other hosts)', async () => {
    const index = new TextEncoder().encode(JSON.stringify({ weight_map: { w: 'https://elsewhere.example/x.safetensors' } }));
    const sources = [mem('model.safetensors.index.json', index)];
    await expect(openCheckpoint(sources, resolverFromSources(sources))).rejects.toThrow(/not a plain file name/);
  });

  it('names a tensor the index lists but the shard lacks', async () => {
    const shard = writeSafetensors([{ name: 'a', dtype: 'F32', shape: [1], values: new Float32Array(1) }]);
    const index = new TextEncoder().encode(JSON.stringify({ weight_map: { a: 's.safetensors', b: 's.safetensors' } }));
    const sources = [mem('model.safetensors.index.json', index), mem('s.safetensors', shard)];
    await expect(openCheckpoint(sources, resolverFromSources(sources))).rejects.toThrow('s.safetensors: tensor "b": is listed in model.safetensors.index.json but not present in this shard');
  });

  it('reports bad config.json by name', async () => {
    const sources = [mem('config.json', new TextEncoder().encode('{nope')), mem('model.safetensors', writeSafetensors([{ name: 'w', dtype: 'F32', shape: [1], values: Float32Array.of(1) }]))];
    await expect(openCheckpoint(sources, resolverFromSources(sources))).rejects.toThrow(/^config\.json: is not valid JSON/);
  });

  it('says when no weights were given', async () => {
    const sources = [mem('tokenizer.json', new TextEncoder().encode('{}'))];
    await expect(openCheckpoint(sources, resolverFromSources(sources))).rejects.toThrow(/no \.safetensors file/);
  });

  it('reads F16 and BF16 checkpoints as float32 close to the F32 values', async () => {
    const spec = { family: 'gptj', layers: 3, dFf: 24, dModel: 10, editedLayer: null, positiveFraction: 0.5, seed: 3 } as const;
    const read = async (dtype: 'F32' | 'F16' | 'BF16') => {
      const files = buildFixture({ ...spec, dtype }).edited.map((f) => mem(f.name, f.bytes));
      const ckpt = await openCheckpoint(files, resolverFromSources(files));
      return readTensorRows(ckpt.tensors.get('transformer.h.1.mlp.fc_out.weight')!, 1);
    };
    const ref = await read('F32');
    for (const dtype of ['F16', 'BF16'] as const) {
      const got = await read(dtype);
      expect([got.rows, got.cols]).toEqual([24, 10]);
      let max = 0;
      got.data.forEach((v, i) => (max = Math.max(max, Math.abs(v - (ref.data[i] as number)))));
      expect(max).toBeLessThan(dtype === 'F16' ? 1e-4 : 1e-3);
    }
  });
});

describe('reading over HTTP Range', () => {
  let server: Server;
  let base = '';
  const fixture = buildFixture({ family: 'gpt2', layers: 2, dFf: 16, dModel: 8, editedLayer: null, positiveFraction: 0.5 });
  const files = new Map(fixture.edited.map((f) => [f.name, f.bytes]));
  let requestedBytes = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const [path] = (req.url ?? '/').split('?');
      const noRange = path!.startsWith('/norange/');
      const body = files.get(path!.replace(/^\/(norange\/)?/, ''));
      if (!body) {
        res.writeHead(404).end();
        return;
      }
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (noRange || !range) {
        res.writeHead(200, { 'Content-Length': body.length }).end(Buffer.from(body));
        return;
      }
      const first = Number(range[1]);
      const last = Math.min(Number(range[2]), body.length - 1);
      requestedBytes += last - first + 1;
      res.writeHead(206, { 'Content-Range': `bytes ${first}-${last}/${body.length}`, 'Content-Length': last - first + 1 }).end(Buffer.from(body.subarray(first, last + 1)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('opens a checkpoint by URL, finds config.json beside it, and reads one tensor without the whole file', async () => {
    const url = `${base}model.safetensors`;
    const source = await UrlSource.open(url);
    requestedBytes = 0;
    const ckpt = await openCheckpoint([source], urlSiblingResolver(url));
    expect(ckpt.config?.modelType).toBe('gpt2');
    const info = ckpt.tensors.get('transformer.h.1.mlp.c_proj.weight')!;
    const rows = await readTensorRows(info, 0);
    expect(rows.rows).toBe(16);
    expect(requestedBytes).toBeLessThan(files.get('model.safetensors')!.length);
  });

  it('says so when the server ignores Range', async () => {
    await expect(UrlSource.open(`${base}norange/model.safetensors`)).rejects.toThrow(/does not support HTTP Range requests/);
  });

  it('reports HTTP errors and unreachable hosts', async () => {
    await expect(UrlSource.open(`${base}missing.safetensors`)).rejects.toThrow(/answered HTTP 404/);
    await expect(UrlSource.open('http://127.0.0.1:9/model.safetensors')).rejects.toThrow(/could not be fetched .*CORS/);
  });
});
