import { describe, expect, it } from 'vitest';
import { robustCholesky } from '../src/core/cholesky';
import { SeededRandom } from '../src/core/random';
import { applyUpdateInLayout, type EditableModel } from '../src/edit/editableModel';
import { Tensor } from '../src/edit/engine/tensor';
import { gptjEditable, llamaEditable } from '../src/edit/familyModels';
import type { GptjConfig } from '../src/edit/gptjNeoxForward';
import type { LlamaConfig } from '../src/edit/llamaForward';
import { computeLeftVector, rome, ROME_DEFAULTS, ROME_PRESETS, type RomeContext, type RomeHyperparams, vStarObjective } from '../src/edit/rome';
import type { RomeTokenizer } from '../src/edit/romeTokenizer';

/**
 * ROME in the GPT-J and Llama layouts (issue: the paper's other two models): the families' forward passes
 * with ROME's hooks (picked rows, resumed passes), the update written into nn.Linear's [d_model, d_ff]
 * (k W' - k W = (k . u) Lambda exactly), v*'s gradient against finite differences, and whole edits.
 */
const WORDS = ['<eos>', 'The', 'Therefore', 'Because', 'I', 'You', 'Ada', 'Bo', 'Lin', 'speaks', 'plays', 'the', 'is', 'a', 'French', 'English', 'piano', 'flute', '.', 'lives', 'in', 'Paris', 'Rome', 'and'];
const IDS = new Map(WORDS.map((w, i) => [w, i]));
const tokenizer: RomeTokenizer = {
  encode: (text) => [0, ...text.split(' ').filter(Boolean).map((w) => IDS.get(w) ?? 0)],
  tokenId: (w) => IDS.get(w),
  decode: (ids) => ids.map((i) => WORDS[i]).join(' '),
  special: [0],
};

function randomParams(shapes: [string, number[]][], seed: number): Map<string, Tensor> {
  const rng = new SeededRandom(seed);
  return new Map(shapes.map(([name, shape]) => [name, new Tensor(Float32Array.from(rng.gaussianArray(shape.reduce((a, b) => a * b, 1)), (x) => (/norm|ln_/.test(name) && name.endsWith('weight') ? 1 + 0.1 * x : 0.3 * x)), shape, false)]));
}

const LLAMA: LlamaConfig = { vocab_size: WORDS.length, hidden_size: 16, intermediate_size: 40, num_hidden_layers: 3, num_attention_heads: 4, num_key_value_heads: 2, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: false };
function llamaParams(seed: number) {
  const { hidden_size: d, intermediate_size: ff, vocab_size: v } = LLAMA;
  const kv = (d / LLAMA.num_attention_heads) * (LLAMA.num_key_value_heads as number);
  const shapes: [string, number[]][] = [['model.embed_tokens.weight', [v, d]], ['model.norm.weight', [d]], ['lm_head.weight', [v, d]]];
  for (let i = 0; i < LLAMA.num_hidden_layers; i++) {
    const l = `model.layers.${i}.`;
    shapes.push([`${l}input_layernorm.weight`, [d]], [`${l}post_attention_layernorm.weight`, [d]], [`${l}self_attn.q_proj.weight`, [d, d]], [`${l}self_attn.k_proj.weight`, [kv, d]], [`${l}self_attn.v_proj.weight`, [kv, d]], [`${l}self_attn.o_proj.weight`, [d, d]]);
    shapes.push([`${l}mlp.gate_proj.weight`, [ff, d]], [`${l}mlp.up_proj.weight`, [ff, d]], [`${l}mlp.down_proj.weight`, [d, ff]]);
  }
  return randomParams(shapes, seed);
}

const GPTJ: GptjConfig = { vocab_size: WORDS.length, n_embd: 16, n_layer: 3, n_head: 4, n_inner: 48, rotary_dim: 2, layer_norm_epsilon: 1e-5 };
function gptjParams(seed: number) {
  const { n_embd: d, vocab_size: v } = GPTJ;
  const ff = GPTJ.n_inner as number;
  const shapes: [string, number[]][] = [['transformer.wte.weight', [v, d]], ['transformer.ln_f.weight', [d]], ['transformer.ln_f.bias', [d]], ['lm_head.weight', [v, d]], ['lm_head.bias', [v]]];
  for (let i = 0; i < GPTJ.n_layer; i++) {
    const l = `transformer.h.${i}.`;
    shapes.push([`${l}ln_1.weight`, [d]], [`${l}ln_1.bias`, [d]], [`${l}attn.q_proj.weight`, [d, d]], [`${l}attn.k_proj.weight`, [d, d]], [`${l}attn.v_proj.weight`, [d, d]], [`${l}attn.out_proj.weight`, [d, d]]);
    shapes.push([`${l}mlp.fc_in.weight`, [ff, d]], [`${l}mlp.fc_in.bias`, [ff]], [`${l}mlp.fc_out.weight`, [d, ff]], [`${l}mlp.fc_out.bias`, [d]]);
  }
  return randomParams(shapes, seed);
}

const FAMILIES: { name: string; make: (params: Map<string, Tensor>) => EditableModel; params: () => Map<string, Tensor> }[] = [
  { name: 'Llama (SwiGLU, grouped-query attention, down_proj [d_model, d_ff])', make: (p) => llamaEditable(LLAMA, p), params: () => llamaParams(3) },
  { name: 'GPT-J (parallel block, partial rotary, fc_out [d_model, d_ff])', make: (p) => gptjEditable(GPTJ, p), params: () => gptjParams(4) },
];

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - (b[i] as number))), 0);
const ids = Int32Array.from([0, 6, 7, 9, 15, 18, 1, 8, 12, 0, 6, 7, 10, 11, 16, 18, 4, 19]);
const [batch, seq] = [2, 9];

for (const family of FAMILIES) {
  describe(`ROME's hooks and update in ${family.name}`, () => {
    const params = family.params();
    const model = family.make(params);
    const layer = 1;

    // The forward itself is held to the ONNX graph in tests/lmGraphs.test.ts (an independent implementation).
    it('picked logit rows and a pass resumed after a layer give the full pass\'s logits', () => {
      const full = model.forward(null, ids, batch, seq);
      const rows = Int32Array.from([3, 8, 12]);
      const picked = model.forward(null, ids, batch, seq, { logitRows: rows });
      const v = WORDS.length;
      rows.forEach((r, i) => expect(maxAbs(picked.data.subarray(i * v, (i + 1) * v), full.data.subarray(r * v, (r + 1) * v))).toBeLessThan(1e-5));
      const residual: { layer: number; residual?: Tensor } = { layer };
      model.forward(null, ids, batch, seq, { captureResidual: residual });
      expect(maxAbs(model.forward(null, ids, batch, seq, { resumeAfter: { layer, residual: residual.residual! } }).data, full.data)).toBeLessThan(1e-5);
    });

    it('k W\' - k W = (k . u) Lambda exactly with the update written in the stored [d_model, d_ff] layout', () => {
      const { name, layout } = model.mlpOutput(layer);
      expect(layout).toBe('model_ff');
      const rng = new SeededRandom(9);
      const u = Float32Array.from(rng.gaussianArray(model.dFF));
      const lambda = Float32Array.from(rng.gaussianArray(model.dModel));
      const keys: { layer: number; keys?: Tensor } = { layer };
      const before: { layer: number; out?: Tensor } = { layer };
      model.forward(null, ids, batch, seq, { captureKeys: keys, captureMlpOut: before });
      const stored = params.get(name)!;
      const edited = new Map(params);
      edited.set(name, new Tensor(applyUpdateInLayout(stored.data, layout, u, lambda), stored.shape, false));
      const after: { layer: number; out?: Tensor } = { layer };
      family.make(edited).forward(null, ids, batch, seq, { captureMlpOut: after });
      let worst = 0;
      for (let r = 0; r < batch * seq; r++) {
        let ku = 0;
        for (let j = 0; j < model.dFF; j++) ku += keys.keys!.data[r * model.dFF + j]! * u[j]!;
        for (let c = 0; c < model.dModel; c++) {
          const expected = ku * lambda[c]!;
          const got = after.out!.data[r * model.dModel + c]! - before.out!.data[r * model.dModel + c]!;
          worst = Math.max(worst, Math.abs(got - expected) / (1 + Math.abs(expected)));
        }
      }
      expect(worst).toBeLessThan(1e-4);
    });

    it('v*\'s gradient equals central finite differences', () => {
      const ctx: RomeContext = { model, tokenizer, contextTemplates: ['{}', 'The . {}', 'You and I . {}'] };
      const hp: RomeHyperparams = { ...ROME_DEFAULTS, layer, mom2Adjustment: false };
      const objective = vStarObjective(ctx, { subject: 'Ada Bo', prompt: '{} speaks', target: 'French' }, hp);
      const rng = new SeededRandom(2);
      const delta = new Tensor(Float32Array.from(rng.gaussianArray(model.dModel), (x) => 0.3 * x), [model.dModel], true);
      objective.evaluate(delta, true);
      const grad = Float32Array.from(delta.grad!);
      const eps = 1e-2;
      for (const i of [0, 3, 7, model.dModel - 1]) {
        const at = (x: number) => {
          const d = new Tensor(Float32Array.from(delta.data), [model.dModel], false);
          d.data[i] = x;
          return objective.evaluate(d, false);
        };
        const numeric = (at(delta.data[i]! + eps) - at(delta.data[i]! - eps)) / (2 * eps);
        expect(Math.abs(numeric - grad[i]!)).toBeLessThan(2e-3 + 2e-2 * Math.abs(numeric));
      }
    });
  });
}

describe('whole ROME edits with the published hyper-parameters of each family', () => {
  // The published settings (ROME_PRESETS), at layer 1 of these 3-layer models.
  const settings: { family: (typeof FAMILIES)[number]; hp: RomeHyperparams; mom2: boolean }[] = [
    { family: FAMILIES[0]!, hp: ROME_PRESETS.llama, mom2: false },
    { family: FAMILIES[1]!, hp: ROME_PRESETS.gptj, mom2: true },
  ];
  for (const { family, hp, mom2 } of settings) {
    it(`${family.name.split(' ')[0]}: the edited layer returns v* at the subject (W' k = v_init + delta), and the target becomes more likely (an untrained model: no efficacy is expected)`, () => {
      const params = family.params();
      const model = family.make(params);
      const layer = 1;
      let covarianceFactor: Float64Array | undefined;
      if (mom2) {
        // C over random text, as ROME takes it over Wikipedia: the uncentred second moment of the keys, from
        // many more positions than d_ff (with fewer, C^-1 k* falls into the keys' null space and k . u = 0).
        const rng = new SeededRandom(6);
        const [textBatch, textSeq] = [40, 8];
        const text = Int32Array.from({ length: textBatch * textSeq }, (_, i) => (i % textSeq === 0 ? 0 : 1 + rng.nextInt(WORDS.length - 1)));
        const keys: { layer: number; keys?: Tensor } = { layer };
        model.forward(null, text, textBatch, textSeq, { captureKeys: keys });
        const n = model.dFF;
        const c = new Float64Array(n * n);
        const rows = textBatch * textSeq;
        for (let r = 0; r < rows; r++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) c[i * n + j] = c[i * n + j]! + (keys.keys!.data[r * n + i]! * keys.keys!.data[r * n + j]!) / rows;
        covarianceFactor = robustCholesky(c, n).factor;
      }
      const ctx: RomeContext = { model, tokenizer, contextTemplates: ['{}', 'The . {}', 'You and I . {}'], covarianceFactor };
      const request = { subject: 'Ada Bo', prompt: '{} speaks', target: 'French' };
      expect(hp.mom2Adjustment).toBe(mom2);
      const full: RomeHyperparams = { ...hp, layer };
      const update = rome(ctx, request, full);
      expect(Math.hypot(...update.u)).toBeCloseTo(1, 5);
      if (!mom2) {
        // Without the mom2 adjustment u is k* itself, normalised.
        const { kStar } = computeLeftVector(ctx, request, full);
        const norm = Math.hypot(...kStar);
        expect(maxAbs(update.u, Float32Array.from(kStar, (x) => x / norm))).toBeLessThan(1e-6);
      }
      const { name, layout } = model.mlpOutput(layer);
      const edited = new Map(params);
      edited.set(name, new Tensor(applyUpdateInLayout(params.get(name)!.data, layout, update.u, update.lambda), params.get(name)!.shape, false));
      const editedModel = family.make(edited);
      const bare = Int32Array.from(tokenizer.encode('Ada Bo speaks'));
      const subjectRow = 2;
      const before: { layer: number; out?: Tensor } = { layer };
      const after: { layer: number; out?: Tensor } = { layer };
      const p0 = model.forward(null, bare, 1, bare.length, { captureMlpOut: before, logitRows: Int32Array.from([bare.length - 1]) });
      const p1 = editedModel.forward(null, bare, 1, bare.length, { captureMlpOut: after, logitRows: Int32Array.from([bare.length - 1]) });
      // The change at the subject is delta, whose size ROME reports relative to v_init.
      const d = model.dModel;
      const change = Float32Array.from({ length: d }, (_, c) => after.out!.data[subjectRow * d + c]! - before.out!.data[subjectRow * d + c]!);
      const vInit = before.out!.data.subarray(subjectRow * d, subjectRow * d + d);
      expect(Math.hypot(...change) / Math.hypot(...vInit)).toBeCloseTo(update.deltaRatio, 3);
      const prob = (logits: Float32Array, id: number) => Math.exp(logits[id]! - Math.max(...logits)) / logits.reduce((a, x) => a + Math.exp(x - Math.max(...logits)), 0);
      const target = IDS.get('French')!;
      expect(prob(p1.data, target)).toBeGreaterThan(prob(p0.data, target));
    });
  }
});

describe('the family sweep\'s pieces', () => {
  it('keyMoment is E[k k^T] over every token (brute force), and mlpRows gives [d_ff, d_model] from nn.Linear storage', async () => {
    const { keyMoment, mlpRows } = await import('../src/edit/familyEditMetrics');
    const params = llamaParams(7);
    const model = llamaEditable(LLAMA, params);
    const sequences = [Int32Array.from([0, 6, 7, 9]), Int32Array.from([0, 1, 8, 12, 13, 14])];
    const { moment, tokens } = keyMoment(model, 2, sequences);
    expect(tokens).toBe(10);
    const n = model.dFF;
    const brute = new Float64Array(n * n);
    for (const s of sequences) {
      const cap: { layer: number; keys?: Tensor } = { layer: 2 };
      model.forward(null, s, 1, s.length, { captureKeys: cap });
      for (let r = 0; r < s.length; r++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) brute[i * n + j] = brute[i * n + j]! + (cap.keys!.data[r * n + i]! * cap.keys!.data[r * n + j]!) / 10;
    }
    expect(moment.reduce((m, x, i) => Math.max(m, Math.abs(x - brute[i]!)), 0)).toBeLessThan(1e-6);
    const rows = mlpRows(model, 0);
    const stored = params.get('model.layers.0.mlp.down_proj.weight')!.data;
    for (const [i, j] of [[0, 0], [5, 3], [39, 15]] as const) expect(rows[i * model.dModel + j]).toBe(stored[j * model.dFF + i]);
  });
});
