import { SeededRandom } from '../core/random';
import { type Fact, type KnowledgeBase, relationById } from './knowledgeBase';

/** One planned edit: change `subject`'s object for its relation, asked with a training template. */
export interface EditSpec {
  id: number;
  factIndex: number;
  relation: string;
  subject: string;
  /** Template used as ROME's prompt (one the fact was trained with). */
  editTemplate: number;
  trueObject: string;
  newObject: string;
  mom2Adjustment: boolean;
  /** Facts of the same relation whose predictions must not change. */
  neighbours: number[];
}

/**
 * `perRelation` edits per relation with the given setting: distinct subjects, a new object drawn from the
 * relation's other objects, 10 neighbours. Deterministic from the seed; ids start at `firstId`.
 */
export function planEdits(kb: KnowledgeBase, perRelation: number, mom2Adjustment: boolean, seed: number, firstId = 0): EditSpec[] {
  const rng = new SeededRandom(seed);
  const specs: EditSpec[] = [];
  for (const relation of kb.relations) {
    const facts = kb.facts.filter((f) => f.relation === relation.id);
    const chosen = rng.shuffle([...facts]).slice(0, perRelation);
    for (const fact of chosen) {
      const others = relation.objects.filter((o) => o !== fact.object);
      const neighbours = rng.shuffle(facts.filter((f) => f !== fact)).slice(0, 10).map((f) => f.index);
      specs.push({
        id: firstId + specs.length,
        factIndex: fact.index,
        relation: relation.id,
        subject: fact.subject,
        editTemplate: trainedTemplate(fact),
        trueObject: fact.object,
        newObject: others[rng.nextInt(others.length)] as string,
        mom2Adjustment,
        neighbours,
      });
    }
  }
  return specs;
}

/** A template the fact was trained with (the one after its held-out template). */
export function trainedTemplate(fact: Fact): number {
  return (fact.heldOutTemplate + 1) % relationById(fact.relation).templates.length;
}
