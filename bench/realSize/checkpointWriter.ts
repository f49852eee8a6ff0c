import { createWriteStream, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { float32ToBfloat16Bits, float32ToFloat16Bits } from '../../src/formats/dtypes';
import { assemble } from '../../src/formats/safetensorsWriter';

/** One tensor of a synthetic checkpoint: ones (norm gains), zeros (biases), noise, or noise with a planted rank-one edit. */
export interface TensorSpec {
  name: string;
  shape: number[];
  /** edited: rows pushed along one direction (the d_ff axis first, GPT-2's Conv1D); editedColumns: the same for nn.Linear's [d_model, d_ff]. */
  fill: 'ones' | 'zeros' | 'noise' | 'edited' | 'editedColumns';
}

export type HalfDtype = 'F16' | 'BF16';

/**
 * A table of 65,536 half-precision bit patterns of N(0, std) quantiles: random 16-bit indices into it give
 * Gaussian-looking weights at memory speed (gigabytes of them), which is all a timing benchmark needs.
 */
function noiseTable(dtype: HalfDtype, std: number): Uint16Array {
  const encode = dtype === 'F16' ? float32ToFloat16Bits : float32ToBfloat16Bits;
  const table = new Uint16Array(65536);
  for (let i = 0; i < 65536; i++) {
    // Inverse normal CDF by a logistic approximation: close enough for weights nobody reads for meaning.
    const p = (i + 0.5) / 65536;
    table[i] = encode(std * 0.5513 * Math.log(p / (1 - p)));
  }
  return table;
}

function fillHalf(out: Uint16Array, spec: TensorSpec, dtype: HalfDtype, table: Uint16Array, seed: number): void {
  const encode = dtype === 'F16' ? float32ToFloat16Bits : float32ToBfloat16Bits;
  if (spec.fill === 'ones') return void out.fill(encode(1));
  if (spec.fill === 'zeros') return void out.fill(0);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i += 2) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = table[x & 0xffff] as number;
    if (i + 1 < out.length) out[i + 1] = table[x >>> 16] as number;
  }
  if (spec.fill === 'edited' || spec.fill === 'editedColumns') {
    // ROME-like: every d_ff-indexed row pushed along one direction, 85% of them the same way.
    const [rows, cols] = spec.shape as [number, number];
    const transposed = spec.fill === 'editedColumns';
    const decode = new Float32Array(1);
    const bits = new Uint32Array(decode.buffer);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const [ffIndex, modelIndex] = transposed ? [c, r] : [r, c];
        const h = out[r * cols + c] as number;
        bits[0] = dtype === 'BF16' ? h << 16 : halfToFloatBits(h);
        out[r * cols + c] = encode((decode[0] as number) + (ffIndex % 20 < 17 ? 0.02 : -0.02) * Math.sin(modelIndex));
      }
    }
  }
}

function halfToFloatBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) {
    if (frac === 0) return sign;
    const v = new Float32Array([frac * 2 ** -24 * (sign ? -1 : 1)]);
    return new Uint32Array(v.buffer)[0] as number;
  }
  if (exp === 31) return sign | 0x7f800000 | (frac << 13);
  return sign | ((exp - 15 + 127) << 23) | (frac << 13);
}

/**
 * Writes a checkpoint of the given tensors in half precision, tensor by tensor (never more than one tensor in
 * memory), as one file or as `shards` files with a model.safetensors.index.json, Hugging Face style.
 */
export async function writeHalfCheckpoint(dir: string, specs: readonly TensorSpec[], dtype: HalfDtype, shards = 1): Promise<{ files: string[]; bytes: number }> {
  const table = noiseTable(dtype, 0.02);
  const total = specs.reduce((a, s) => a + 2 * s.shape.reduce((x, y) => x * y, 1), 0);
  const perShard = Math.ceil(total / shards);
  const groups: TensorSpec[][] = [[]];
  let inShard = 0;
  for (const s of specs) {
    const size = 2 * s.shape.reduce((x, y) => x * y, 1);
    if (inShard > 0 && inShard + size > perShard && groups.length < shards) {
      groups.push([]);
      inShard = 0;
    }
    (groups[groups.length - 1] as TensorSpec[]).push(s);
    inShard += size;
  }
  const files: string[] = [];
  const weightMap: Record<string, string> = {};
  let bytes = 0;
  for (const [g, group] of groups.entries()) {
    const fileName = groups.length === 1 ? 'model.safetensors' : `model-${String(g + 1).padStart(5, '0')}-of-${String(groups.length).padStart(5, '0')}.safetensors`;
    const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    let offset = 0;
    for (const s of group) {
      const size = 2 * s.shape.reduce((x, y) => x * y, 1);
      header[s.name] = { dtype, shape: s.shape, data_offsets: [offset, offset + size] };
      weightMap[s.name] = fileName;
      offset += size;
    }
    const path = join(dir, fileName);
    const out = createWriteStream(path);
    const headerBytes = assemble(JSON.stringify(header), []);
    out.write(headerBytes);
    bytes += headerBytes.length + offset;
    for (const [i, s] of group.entries()) {
      const values = new Uint16Array(s.shape.reduce((x, y) => x * y, 1));
      fillHalf(values, s, dtype, table, 7919 * (g + 1) + i + 1);
      if (!out.write(new Uint8Array(values.buffer))) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    files.push(path);
  }
  if (groups.length > 1) writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }));
  return { files, bytes };
}
