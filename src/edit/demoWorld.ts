import type { KnowledgeBase } from './knowledgeBase';

/** public/demo/facts.json: the world's relations and every fact the base model was trained on. */
export interface DemoFacts {
  /** How the demo's own edits were made: the editor's defaults on the demo. */
  rome?: { layer: number; contextTemplates: string };
  relations: { id: string; name: string; templates: string[]; objects: string[] }[];
  facts: { subject: string; relation: string; object: string; heldOutTemplate: number }[];
}

export function demoFacts(kb: KnowledgeBase, rome?: DemoFacts['rome']): DemoFacts {
  return {
    ...(rome ? { rome } : {}),
    relations: kb.relations.map((r) => ({ id: r.id, name: r.name, templates: [...r.templates], objects: [...r.objects] })),
    facts: kb.facts.map((f) => ({ subject: f.subject, relation: f.relation, object: f.object, heldOutTemplate: f.heldOutTemplate })),
  };
}

/**
 * The text ROME's C is taken over (public/demo/mom2-corpus.txt, one sentence a line): the filler and the
 * "{subject} is a {kind} ." sentences. Like ROME's Wikipedia sample it mentions the subjects without their facts.
 */
export function mom2Corpus(kb: KnowledgeBase): string[] {
  return [...kb.filler, ...kb.kindSentences];
}
