import type { EditRecord } from './editBundle';
import type { EditSpec } from './editPlan';
import { evaluateEdit } from './editMetrics';
import { type KnowledgeBase, relationById } from './knowledgeBase';
import { rome, ROME_DEFAULTS, type RomeContext, type RomeHyperparams } from './rome';
import type { WordVocabulary } from './wordTokenizer';
import type { Gpt2Config, Gpt2Params } from './gpt2Model';

/** ROME for one planned edit, evaluated: the record that goes into the bundle. */
export function runEdit(
  ctx: RomeContext & { config: Gpt2Config; params: Gpt2Params; vocab: WordVocabulary },
  kb: KnowledgeBase,
  spec: EditSpec,
  layer: number,
  overrides: Partial<Omit<RomeHyperparams, 'layer' | 'mom2Adjustment'>> = {},
  main = true,
): EditRecord {
  const fact = kb.facts[spec.factIndex];
  if (!fact) throw new Error(`edit ${spec.id}: no fact ${spec.factIndex}`);
  const relation = relationById(spec.relation);
  const template = relation.templates[spec.editTemplate] as string;
  const update = rome(ctx, { subject: spec.subject, prompt: template, target: spec.newObject }, { ...ROME_DEFAULTS, ...overrides, layer, mom2Adjustment: spec.mom2Adjustment });
  const neighbours = spec.neighbours.map((i) => kb.facts[i]).filter((f) => f !== undefined);
  const metrics = evaluateEdit(ctx.config, ctx.params, ctx.vocab, fact, spec.editTemplate, spec.newObject, layer, update.u, update.lambda, neighbours);
  return {
    id: spec.id,
    relation: spec.relation,
    subject: spec.subject,
    prompt: template,
    paraphrase: relation.templates[fact.heldOutTemplate] as string,
    trueObject: spec.trueObject,
    newObject: spec.newObject,
    layer,
    mom2Adjustment: spec.mom2Adjustment,
    main,
    metrics: { ...metrics, steps: update.steps, finalLoss: update.finalLoss, deltaRatio: update.deltaRatio },
    u: update.u,
    lambda: update.lambda,
  };
}
