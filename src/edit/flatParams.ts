import { Tensor } from './engine/tensor';

/** Where each named parameter sits in one flat vector. */
export interface ParamLayout {
  entries: { name: string; shape: number[]; offset: number; size: number }[];
  size: number;
}

export function paramLayout(shapes: readonly [string, number[]][]): ParamLayout {
  let offset = 0;
  const entries = shapes.map(([name, shape]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const e = { name, shape, offset, size };
    offset += size;
    return e;
  });
  return { entries, size: offset };
}

/** Tensors viewing a flat parameter vector (and, when given, a flat gradient vector of the same layout). */
export function tensorsOver(layout: ParamLayout, flat: Float32Array, flatGrad?: Float32Array): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const e of layout.entries) {
    const t = new Tensor(flat.subarray(e.offset, e.offset + e.size), e.shape, true);
    if (flatGrad) t.grad = flatGrad.subarray(e.offset, e.offset + e.size);
    out.set(e.name, t);
  }
  return out;
}

/** Copies named tensors into a flat vector laid out by `layout`. */
export function flatten(layout: ParamLayout, params: ReadonlyMap<string, Tensor>, into: Float32Array = new Float32Array(layout.size)): Float32Array {
  for (const e of layout.entries) {
    const t = params.get(e.name);
    if (!t || t.size !== e.size) throw new Error(`parameter ${e.name} missing or of the wrong size`);
    into.set(t.data, e.offset);
  }
  return into;
}

/** 1 for matrices (weight decay applies), 0 for vectors (biases, norm gains) and embeddings' positions. */
export function decayMask(layout: ParamLayout): Uint8Array {
  const mask = new Uint8Array(layout.size);
  for (const e of layout.entries) if (e.shape.length === 2) mask.fill(1, e.offset, e.offset + e.size);
  return mask;
}
