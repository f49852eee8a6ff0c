import { describe, expect, it } from 'vitest';
import { causalTrace } from '../src/edit/causalTrace';
import { initGpt2 } from '../src/edit/gpt2Model';

describe('causal tracing', () => {
  it('restoring the last position after the last layer recovers exactly the clean probability; positions before the subject recover nothing', () => {
    const c = { vocab_size: 20, n_positions: 8, n_embd: 12, n_layer: 3, n_head: 2, n_inner: 24, layer_norm_epsilon: 1e-5 };
    const params = initGpt2(c, 9);
    // Positions 0-1 before the subject, 2-3 the subject, 4 the last position: one position of each kind.
    const prompt = { ids: Int32Array.from([0, 5, 7, 9, 3]), subjectFrom: 2, subjectTo: 4, object: 11 };
    const table = causalTrace(c, params, [prompt], 1);
    expect(table.cleanProbability).not.toBeCloseTo(table.corruptedProbability, 6);
    // Last position (kind 2) after the last layer: the logits see only that state.
    expect(table.recovered[2]![2]).toBeCloseTo(table.cleanProbability - table.corruptedProbability, 6);
    // "Other" positions (kind 3) are the ones before the subject here: noise never reaches them.
    for (let layer = 0; layer < 3; layer++) expect(Math.abs(table.recovered[layer]![3]!)).toBeLessThan(1e-7);
  });
});
