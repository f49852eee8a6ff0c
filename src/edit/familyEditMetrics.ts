import { directionSplit } from '../core/editSignature';
import { rowMatrix, transpose } from '../core/matrix';
import { pairwiseCosine } from '../core/pairwiseCosine';
import { cpuOperator, randomizedSvd } from '../core/randomizedSvd';
import { applyUpdateInLayout, type EditableModel } from './editableModel';
import { Tensor } from './engine/tensor';
import type { KnowledgeBase } from './knowledgeBase';
import { editMetricsFrom } from './editMetrics';
import type { EditSpec } from './editPlan';
import { nextTokensOf } from './predict';
import type { WordVocabulary } from './wordTokenizer';

/** One edit's outcome on a model of any family: ROME's three metrics and the paper's signature of W'. */
export interface FamilyEditOutcome {
  efficacy: boolean;
  paraphrase: number;
  neighbourhood: number;
  sameDirectionFraction: number;
  pcsAfter: number;
  sigmaRatioAfter: number;
}

/** The MLP output matrix of `layer` as rows [d_ff, d_model] (the analyses' orientation), whatever its stored layout. */
export function mlpRows(model: EditableModel, layer: number): Float32Array {
  const { name, layout } = model.mlpOutput(layer);
  const stored = (model.params.get(name) as Tensor).data;
  return layout === 'ff_model' ? stored : transpose(stored, model.dModel, model.dFF);
}

/**
 * Applies u lambda^T at `layer` in the model's own layout (a new model over the same other parameters) and
 * measures what the forge's GPT-2 edit set measures: efficacy (the new object top-1 on the edit prompt),
 * paraphrase (on the fact's other templates), neighbourhood (other subjects of the relation keep their
 * predictions), and the signature (same-sign share of u, pcs and sigma1/sigma2 of W' as rows).
 */
export async function familyEditOutcome(
  model: EditableModel,
  rebuild: (params: Map<string, Tensor>) => EditableModel,
  vocab: WordVocabulary,
  kb: KnowledgeBase,
  spec: EditSpec,
  layer: number,
  u: Float32Array,
  lambda: Float32Array,
): Promise<FamilyEditOutcome> {
  const { name, layout } = model.mlpOutput(layer);
  const stored = model.params.get(name) as Tensor;
  const params = new Map(model.params);
  params.set(name, new Tensor(applyUpdateInLayout(stored.data, layout, u, lambda), stored.shape, false));
  const edited = rebuild(params);
  const fact = kb.facts[spec.factIndex] as KnowledgeBase['facts'][number];
  const neighbours = spec.neighbours.map((i) => kb.facts[i]).filter((f) => f !== undefined);
  const predict = (prompts: readonly Int32Array[], withEdit: boolean) => nextTokensOf(withEdit ? edited : model, prompts);
  const metrics = editMetricsFrom(predict, vocab, fact, spec.editTemplate, spec.newObject, neighbours);
  const rows = rowMatrix(model.dFF, model.dModel, mlpRows(edited, layer));
  const svd = await randomizedSvd(cpuOperator(rows), { k: 2, oversampling: 8, powerIterations: 4 });
  return {
    ...metrics,
    sameDirectionFraction: directionSplit(u).sameDirectionFraction,
    pcsAfter: pairwiseCosine(rows).pcs,
    sigmaRatioAfter: (svd.values[0] as number) / (svd.values[1] as number),
  };
}

/** ROME's C for any family: E[k k^T] of `layer`'s MLP keys over every token of `sequences`, float64. */
export function keyMoment(model: EditableModel, layer: number, sequences: readonly Int32Array[]): { moment: Float64Array; tokens: number } {
  const n = model.dFF;
  const moment = new Float64Array(n * n);
  let tokens = 0;
  for (const s of sequences) {
    const capture: { layer: number; keys?: Tensor; stop: boolean } = { layer, stop: true };
    model.forward(null, s, 1, s.length, { captureKeys: capture });
    const k = (capture.keys as Tensor).data;
    for (let r = 0; r < s.length; r++) {
      const o = r * n;
      for (let i = 0; i < n; i++) {
        const ki = k[o + i] as number;
        if (ki === 0) continue;
        for (let j = i; j < n; j++) moment[i * n + j] = (moment[i * n + j] as number) + ki * (k[o + j] as number);
      }
    }
    tokens += s.length;
  }
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = (moment[i * n + j] as number) / tokens;
      moment[i * n + j] = v;
      moment[j * n + i] = v;
    }
  }
  return { moment, tokens };
}
