import { Tensor } from './engine/tensor';
import { promptIds } from './factAccuracy';
import { type Gpt2Config, type Gpt2Params, mlpOutputName } from './gpt2Model';
import { type Fact, prompt, relationById } from './knowledgeBase';
import { nextTokens } from './predict';
import { applyUpdate } from './rome';
import type { WordVocabulary } from './wordTokenizer';

export interface EditMetrics {
  /** The new object is the top-1 next token of the edit prompt. */
  efficacy: boolean;
  /** Share of the fact's other templates (the held-out one included) that now give the new object. */
  paraphrase: number;
  /** Share of other subjects of the relation whose prediction did not change. */
  neighbourhood: number;
}

/**
 * The three metrics from predictions: `predict(prompts, edited)` gives the top-1 token of each prompt with the
 * edited weights or the unedited ones. Neighbours are asked with the edit's template.
 */
export function editMetricsFrom(
  predict: (prompts: readonly Int32Array[], edited: boolean) => Int32Array,
  vocab: WordVocabulary,
  fact: Fact,
  editTemplate: number,
  newObject: string,
  neighbours: readonly Fact[],
): EditMetrics {
  const relation = relationById(fact.relation);
  const own = relation.templates.map((t) => promptIds(vocab, prompt(t, fact.subject)));
  const others = neighbours.map((n) => promptIds(vocab, prompt(relation.templates[editTemplate] as string, n.subject)));
  const edited = predict([...own, ...others], true);
  const before = predict(others, false);
  const target = vocab.ids.get(newObject) as number;
  const paraphrases = own.map((_, i) => i).filter((i) => i !== editTemplate);
  return {
    efficacy: edited[editTemplate] === target,
    paraphrase: paraphrases.filter((i) => edited[i] === target).length / Math.max(1, paraphrases.length),
    neighbourhood: others.length ? others.filter((_, i) => edited[own.length + i] === before[i]).length / others.length : 1,
  };
}

/**
 * Evaluates an edit W' = W + u Lambda^T at `layer` on the edit prompt, on the fact's other templates, and on
 * `neighbours` (other facts of the same relation), comparing with the unedited model's predictions.
 */
export function evaluateEdit(
  c: Gpt2Config,
  params: Gpt2Params,
  vocab: WordVocabulary,
  fact: Fact,
  editTemplate: number,
  newObject: string,
  layer: number,
  u: Float32Array,
  lambda: Float32Array,
  neighbours: readonly Fact[],
): EditMetrics {
  const base = params.get(mlpOutputName(layer)) as Tensor;
  const weight = new Tensor(applyUpdate(base.data, u, lambda), base.shape);
  const predict = (prompts: readonly Int32Array[], edited: boolean) => nextTokens(c, params, prompts, edited ? { mlpWeight: { layer, weight } } : {});
  return editMetricsFrom(predict, vocab, fact, editTemplate, newObject, neighbours);
}
