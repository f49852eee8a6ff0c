import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../src/core/random';
import * as ops from '../src/edit/engine/ops';
import { Graph, Tensor } from '../src/edit/engine/tensor';
import { type Gpt2Config, gpt2Forward, initGpt2, mlpOutputName } from '../src/edit/gpt2Model';
import { applyUpdateInLayout, type EditableModel, gpt2Editable } from '../src/edit/editableModel';
import { gptjEditable, llamaEditable } from '../src/edit/familyModels';
import { gptjParamShapes, initGptj, initLlama, llamaParamShapes } from '../src/edit/forgeArchitecture';
import { decodeModel, decodeUpdates, type DecoderExample, trainObjectDecoder, PAPER_DECODER } from '../src/analysis/objectDecoder';
import { readObjectDecoder, writeObjectDecoder } from '../src/analysis/objectDecoderFile';
import { madeUpSubject, readObject, readoutContext } from '../src/analysis/objectReadout';
import { objectSplits } from '../src/analysis/traceExperiments';
import { MemorySource } from '../src/formats/byteSource';
import { FormatError } from '../src/formats/formatError';
import type { EditRecordMeta } from '../src/edit/editBundle';
import type { TextTokenizer } from '../src/lm/tokenizer';

const rng = new SeededRandom(5);
const config: Gpt2Config = { vocab_size: 23, n_positions: 12, n_embd: 12, n_layer: 3, n_head: 3, n_inner: 20, layer_norm_epsilon: 1e-5 };
const params = initGpt2(config, 11);
for (const t of params.values()) for (let i = 0; i < t.size; i++) t.data[i] = (t.data[i] as number) * 8; // bigger weights: non-trivial outputs
const gauss = (n: number, s = 1) => Float32Array.from({ length: n }, () => rng.gaussian() * s);
const withMatrix = (u: Float32Array, lambda: Float32Array, layer: number) => {
  const w = params.get(mlpOutputName(layer))!;
  const edited = Float32Array.from(w.data, (v, i) => v + u[Math.floor(i / config.n_embd)]! * lambda[i % config.n_embd]!);
  return new Map(params).set(mlpOutputName(layer), new Tensor(edited, w.shape, false));
};

describe('engine options for object inference', () => {
  it('a batch with one rank-one update per sequence equals separate forwards with each W + u lambda^T', () => {
    const seq = 4;
    const ids = Int32Array.from({ length: 3 * seq }, (_, i) => (i * 5 + 1) % config.vocab_size);
    const us = gauss(3 * config.n_inner);
    const ls = gauss(3 * config.n_embd);
    const batched = gpt2Forward(null, config, params, ids, 3, seq, { mlpRankOne: { layer: 1, u: us, lambda: ls } });
    for (let b = 0; b < 3; b++) {
      const alone = gpt2Forward(null, config, withMatrix(us.slice(b * config.n_inner, (b + 1) * config.n_inner), ls.slice(b * config.n_embd, (b + 1) * config.n_embd), 1), ids.subarray(b * seq, (b + 1) * seq), 1, seq);
      for (let i = 0; i < alone.size; i++) expect(batched.data[b * alone.size + i]).toBeCloseTo(alone.data[i]!, 3);
    }
  });

  it('input embeddings equal to token embeddings give the token forward; replaced MLP rows are the given values', () => {
    const ids = Int32Array.from([3, 7, 1, 9]);
    const wte = params.get('transformer.wte.weight')!;
    const rows = new Float32Array(ids.length * config.n_embd);
    ids.forEach((id, i) => rows.set(wte.data.subarray(id * config.n_embd, (id + 1) * config.n_embd), i * config.n_embd));
    const a = gpt2Forward(null, config, params, ids, 1, 4);
    const b = gpt2Forward(null, config, params, new Int32Array(4), 1, 4, { inputEmbeddings: new Tensor(rows, [4, config.n_embd]) });
    expect(Array.from(b.data)).toEqual(Array.from(a.data));
    const value = gauss(config.n_embd);
    const capture: { layer: number; out?: Tensor } = { layer: 0 };
    gpt2Forward(null, config, params, ids, 1, 4, { mlpReplace: { layer: 0, rows: Int32Array.from([2]), values: value }, captureMlpOut: capture });
    expect(Array.from(capture.out!.data.subarray(2 * config.n_embd, 3 * config.n_embd))).toEqual(Array.from(value));
  });

  it('gradients of the new ops match central differences', () => {
    const x = new Tensor(gauss(6 * 5), [6, 5], true);
    const y = new Tensor(gauss(6 * 4), [6, 4], true);
    const u = gauss(2 * 5);
    const lambda = gauss(2 * 4);
    const w = gauss(6 * 4);
    const loss = (xv: Float32Array, yv: Float32Array, g: Graph | null, xt = new Tensor(xv, [6, 5], !!g), yt = new Tensor(yv, [6, 4], !!g)) => {
      const out = ops.replaceRows(g, ops.addRankOnePerSequence(g, yt, xt, u, lambda, 3), Int32Array.from([4]), gauss(4));
      return { out: ops.weightedSum(g, out, w), xt, yt };
    };
    const g = new Graph();
    const r = loss(x.data, y.data, g);
    g.backward(r.out);
    for (const [which, t] of [['x', r.xt], ['y', r.yt]] as const) {
      const v = gauss(t.size);
      const analytic = t.grad!.reduce((s, gi, i) => s + gi * v[i]!, 0);
      const shift = (sgn: number) => Float32Array.from(t.data, (val, i) => val + sgn * 1e-2 * v[i]!);
      const at = (sgn: number) => {
        const state = new SeededRandom(0); // replaced rows are constants: same values both ways
        void state;
        return which === 'x' ? ops.weightedSum(null, ops.replaceRows(null, ops.addRankOnePerSequence(null, y, new Tensor(shift(sgn), [6, 5]), u, lambda, 3), Int32Array.from([4]), new Float32Array(4)), w).data[0]! : ops.weightedSum(null, ops.replaceRows(null, ops.addRankOnePerSequence(null, new Tensor(shift(sgn), [6, 4]), x, u, lambda, 3), Int32Array.from([4]), new Float32Array(4)), w).data[0]!;
      };
      const numeric = (at(1) - at(-1)) / 2e-2;
      expect(Math.abs(analytic - numeric)).toBeLessThan(2e-3 * Math.max(1, Math.abs(numeric)));
    }
  });
});

/** A tokenizer over single-letter words: "a b c" -> [0, 1, 2]. */
const letterIds = (text: string) => text.split(/\s+/).filter(Boolean).map((w) => (w.charCodeAt(0) - 97 + config.vocab_size * 10) % config.vocab_size);
const letterText = (ids: readonly number[]) => ids.map((i) => String.fromCharCode(97 + i)).join(' ');
const letters: TextTokenizer = {
  encode: letterIds,
  encodePlain: letterIds,
  decode: letterText,
  decodeText: letterText,
  specialIds: [],
  tokenText: (id) => String.fromCharCode(97 + id),
  idLimit: config.vocab_size,
  unknownWords: () => [],
};

describe('training-free readout', () => {
  const templates = new Map([['R1', ['c {} d', 'e f {}']], ['R2', ['{} g']]]);
  const ctx = readoutContext(config, params, 1, letters, ['a b c d e f g h', 'i j k'], templates, 'k l');

  it('finds the made-up subject in each template', () => {
    expect(ctx.prompts.map((p) => [p.template, p.subjectRow])).toEqual([['c {} d', 2], ['e f {}', 3], ['{} g', 1]]);
    const subjects = ['a b', 'c d', 'a d'];
    const made = madeUpSubject(subjects);
    expect(subjects).not.toContain(made);
    expect(made.split(' ').every((w) => subjects.join(' ').split(' ').includes(w))).toBe(true);
  });

  it('reading W + u lambda^T from a model that holds W equals reading a model that already holds it', () => {
    const u = gauss(config.n_inner);
    const lambda = gauss(config.n_embd, 3);
    const a = readObject(ctx, u, lambda, 1, false);
    const b = readObject({ ...ctx, params: withMatrix(u, lambda, 1) }, u, lambda, 1, true);
    for (const [r, lp] of a.byRelation) {
      lp.forEach((v, j) => expect(b.byRelation.get(r)![j]).toBeCloseTo(v, 3));
      a.original.get(r)!.forEach((v, j) => expect(b.original.get(r)![j]).toBeCloseTo(v, 3));
    }
  });

  it('a zero update reads the same with and without the edit (no contrast)', () => {
    const a = readObject(ctx, gauss(config.n_inner), new Float32Array(config.n_embd), 1);
    for (const [r, lp] of a.byRelation) lp.forEach((v, j) => expect(a.original.get(r)![j]).toBeCloseTo(v, 5));
  });
});

describe('object decoder', () => {
  // Edits whose lambda encodes the target: a fixed direction per target token, plus noise.
  const plain = initGpt2(config, 12);
  // Trained embeddings are far larger than GPT-2's 0.02 initialisation; tied outputs need them to be confident.
  for (const [name, t] of plain) if (name.endsWith('wte.weight') || name.endsWith('wpe.weight')) t.data.forEach((v, i) => (t.data[i] = v * 25));
  const directions = Array.from({ length: 4 }, () => gauss(config.n_embd, 2));
  // u leans one way (as GPT's do), so the key's product with it keeps one sign across edits.
  const example = (target: number): DecoderExample => ({
    u: Float32Array.from({ length: config.n_inner }, () => 3 + rng.gaussian()),
    lambda: Float32Array.from(directions[target]!, (v) => v + 0.2 * rng.gaussian()),
    target,
  });
  const train = Array.from({ length: 320 }, (_, i) => example(i % 4));
  const validation = Array.from({ length: 80 }, (_, i) => example(i % 4));
  const settings = { ...PAPER_DECODER, tunedLayer: 1, editLayer: 1, maxEpochs: 40, patience: 6, lr: 1e-2 };
  const model = gpt2Editable(config, plain);
  const { decoder, history } = trainObjectDecoder(model, train, validation, settings);

  it('learns: validation loss falls, the edited matrix itself is never tuned', () => {
    expect(Math.min(...history.map((h) => h.validationLoss))).toBeLessThan(history[0]!.validationLoss - 0.3);
    const read = decodeUpdates(model, decoder, validation);
    const correct = read.filter((l, i) => l.indexOf(Math.max(...l)) === validation[i]!.target).length;
    expect(correct / validation.length).toBeGreaterThan(0.4); // chance: 0.25 (sd 0.05 over 80)
    expect([...decoder.layerParams.keys()]).not.toContain(mlpOutputName(1));
    expect([...decoder.layerParams.keys()].every((n) => n.startsWith('transformer.h.1.'))).toBe(true);
  });

  it('on a model holding W + u lambda^T reads what it reads for the factors', () => {
    const e = validation[0]!;
    const viaFactors = decodeUpdates(model, decoder, [e])[0]!;
    const w = plain.get(mlpOutputName(1))!;
    const edited = new Map(plain).set(mlpOutputName(1), new Tensor(Float32Array.from(w.data, (v, i) => v + e.u[Math.floor(i / config.n_embd)]! * e.lambda[i % config.n_embd]!), w.shape, false));
    const viaModel = decodeModel(model.withParams(edited), decoder);
    viaFactors.forEach((v, j) => expect(viaModel[j]).toBeCloseTo(v, 3));
  });

  it('round-trips through its file; wrong or hostile files are refused with the file named', async () => {
    const bytes = writeObjectDecoder(decoder);
    const back = await readObjectDecoder(new MemorySource('d.safetensors', bytes), model);
    const e = validation[1]!;
    expect(Array.from(decodeUpdates(model, back, [e])[0]!)).toEqual(Array.from(decodeUpdates(model, decoder, [e])[0]!));
    const other = { ...config, n_embd: 24, n_inner: 40 };
    await expect(readObjectDecoder(new MemorySource('d.safetensors', bytes), gpt2Editable(other, initGpt2(other, 1)))).rejects.toThrow(/d\.safetensors/);
    const garbage = Uint8Array.from(bytes.subarray(0, 40));
    await expect(readObjectDecoder(new MemorySource('cut.safetensors', garbage), model)).rejects.toThrow(FormatError);
  });
});

describe('object decoder on the other families (the edited matrix stored [d_model, d_ff])', () => {
  const words = 23;
  const families: { name: string; model: () => EditableModel }[] = [
    {
      name: 'Llama',
      model: () => {
        const c = { vocab_size: words, hidden_size: 12, intermediate_size: 20, num_hidden_layers: 3, num_attention_heads: 3, num_key_value_heads: 1, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false, max_position_embeddings: 12 };
        expect(llamaParamShapes(c).length).toBeGreaterThan(0);
        // Trained weights are far larger than the 0.02 initialisation; the rank-one term needs keys of some size to matter.
        const params = initLlama(c, 3);
        for (const [, t] of params) if (t.shape.length === 2) t.data.forEach((v, i) => (t.data[i] = v * 10));
        return llamaEditable(c, params);
      },
    },
    {
      name: 'GPT-J',
      model: () => {
        const c = { vocab_size: words, n_embd: 12, n_layer: 3, n_head: 3, n_inner: 20, rotary_dim: 2, layer_norm_epsilon: 1e-5, n_positions: 12 };
        expect(gptjParamShapes(c).length).toBeGreaterThan(0);
        return gptjEditable(c, initGptj(c, 4));
      },
    },
  ];
  for (const family of families) {
    it(`${family.name}: W' = W + lambda u^T in the stored layout reads exactly what the factors read; tuning skips the edited matrix and learns`, async () => {
      const model = family.model();
      const local = new SeededRandom(9);
      const dirs = Array.from({ length: 3 }, () => Float32Array.from({ length: model.dModel }, () => 4 * local.gaussian()));
      const example = (target: number): DecoderExample => ({ u: Float32Array.from({ length: model.dFF }, () => 3 + local.gaussian()), lambda: Float32Array.from(dirs[target]!, (v) => v + 0.2 * local.gaussian()), target });
      const train = Array.from({ length: 192 }, (_, i) => example(i % 3));
      const validation = Array.from({ length: 48 }, (_, i) => example(i % 3));
      const { decoder, history } = trainObjectDecoder(model, train, validation, { ...PAPER_DECODER, tunedLayer: 1, editLayer: 1, maxEpochs: 25, patience: 5, lr: 1e-2 });
      expect(Math.min(...history.map((h) => h.validationLoss))).toBeLessThan(history[0]!.validationLoss - 0.1);
      const { name, layout } = model.mlpOutput(1);
      expect(layout).toBe('model_ff');
      expect([...decoder.layerParams.keys()]).not.toContain(name);
      expect([...decoder.layerParams.keys()].every((n) => n.startsWith(model.blockPrefix(1)))).toBe(true);
      // The rank-one hook against the matrix written in the model's own layout (independent of the hook's code).
      const e = validation[2]!;
      const w = model.params.get(name)!;
      const edited = new Map(model.params).set(name, new Tensor(applyUpdateInLayout(w.data, layout, e.u, e.lambda), w.shape, false));
      const viaFactors = decodeUpdates(model, decoder, [e])[0]!;
      const viaModel = decodeModel(model.withParams(edited), decoder);
      viaFactors.forEach((v, j) => expect(viaModel[j]).toBeCloseTo(v, 3));
      const back = await readObjectDecoder(new MemorySource('d.safetensors', writeObjectDecoder(decoder)), model);
      expect(Array.from(decodeUpdates(model, back, [e])[0]!)).toEqual(Array.from(viaFactors));
    });
  }
});

describe('object inference splits', () => {
  it('are the paper sizes (600 / 100 / 300 in distribution, 330 out), disjoint, OOD relations unseen', () => {
    const metas: EditRecordMeta[] = [];
    for (let r = 0; r < 31; r++) for (let i = 0; i < 100; i++) metas.push({ id: r * 100 + i, relation: `P${r}`, subject: 's', prompt: '{} x', paraphrase: '', trueObject: 'a', newObject: 'b', layer: 0, mom2Adjustment: true, main: true, metrics: {} as EditRecordMeta['metrics'] });
    const s = objectSplits(metas, 11);
    expect([s.train.length, s.validation.length, s.test.length, s.ood.length]).toEqual([600, 100, 300, 330]);
    expect(s.idRelations).toHaveLength(20);
    const ids = [...s.train, ...s.validation, ...s.test, ...s.ood].map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(s.ood.every((e) => s.oodRelations.includes(e.relation) && !s.idRelations.includes(e.relation))).toBe(true);
  });
});
