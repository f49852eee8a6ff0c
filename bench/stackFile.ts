import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { assemble } from '../src/formats/safetensorsWriter';
import { fillNoise } from './benchUtil';

export const STACK = { rows: 6400, cols: 1600, editedLayer: 17 } as const;

/**
 * Writes a GPT-2 XL-sized stack of MLP output matrices, one layer at a time (never the whole file in memory),
 * with a ROME-like edit at layer 17: rows pushed along one direction, 85% of them the same way.
 */
export async function writeStack(path: string, layers: number): Promise<{ fileBytes: number; layerBytes: number }> {
  const { rows, cols } = STACK;
  const layerBytes = rows * cols * 4;
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  for (let i = 0; i < layers; i++) header[`transformer.h.${i}.mlp.c_proj.weight`] = { dtype: 'F32', shape: [rows, cols], data_offsets: [i * layerBytes, (i + 1) * layerBytes] };
  const headerBytes = assemble(JSON.stringify(header), []);
  const out = createWriteStream(path);
  out.write(headerBytes);
  const layer = new Float32Array(rows * cols);
  for (let i = 0; i < layers; i++) {
    fillNoise(layer, 1000 + i);
    if (i === STACK.editedLayer) {
      for (let r = 0; r < rows; r++) {
        const s = (r % 20 < 17 ? 1 : -1) * 0.6;
        for (let c = 0; c < cols; c++) layer[r * cols + c] = (layer[r * cols + c] as number) + s * Math.sin(c);
      }
    }
    if (!out.write(new Uint8Array(layer.buffer.slice(0)))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { fileBytes: headerBytes.length + layers * layerBytes, layerBytes };
}
