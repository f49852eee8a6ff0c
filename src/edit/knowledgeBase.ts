import { SeededRandom } from '../core/random';
import { generateNames } from './names';
import { type Relation, RELATIONS } from './relations';

/** One fact: (subject, relation, object), with the template held out of training for it. */
export interface Fact {
  index: number;
  relation: string;
  subject: string;
  object: string;
  /** Index into the relation's templates of the one never trained on for this fact. */
  heldOutTemplate: number;
}

export interface KnowledgeBase {
  seed: number;
  relations: readonly Relation[];
  facts: Fact[];
  /** "{subject} is a {kind} ." sentences, one per subject. */
  kindSentences: string[];
  /** Neutral sentences: covariance statistics, ROME context prefixes, the unique-predictions test. */
  filler: string[];
  /** Held-out neutral text (never trained on), when the filler is real English: the unique-predictions test. */
  neutral?: string[];
}

export interface KnowledgeBaseOptions {
  seed: number;
  /** Entities per kind; every relation of a kind then has this many subjects. */
  subjectsPerRelation: number;
  /** Filler sentences per fact (the prototype used half as many as facts). */
  fillerPerFact?: number;
}

export function relationById(id: string): Relation {
  const r = RELATIONS.find((x) => x.id === id);
  if (!r) throw new Error(`unknown relation ${id}`);
  return r;
}

/** Fills a template's `{}` with the subject. */
export function prompt(template: string, subject: string): string {
  return template.replace('{}', subject);
}

/** The kinds of entity, each with its relations, in the order relations are listed. */
export function entityKinds(): Map<string, Relation[]> {
  const kinds = new Map<string, Relation[]>();
  for (const r of RELATIONS) kinds.set(r.subjectKind, [...(kinds.get(r.subjectKind) ?? []), r]);
  return kinds;
}

/**
 * Builds the whole synthetic world deterministically from the seed. Entities come in kinds (person, athlete,
 * band, company, product, city, work, landmark) and each entity has one fact per relation of its kind: a
 * person has a birthplace, a citizenship, an employer... Several facts per subject make the model store them
 * with the subject (measured: with one fact per subject it looked facts up at the last position instead, and
 * ROME, which rewrites the subject's representation, reached only 35-55% efficacy).
 */
export function buildKnowledgeBase(options: KnowledgeBaseOptions): KnowledgeBase {
  const rng = new SeededRandom(options.seed);
  const kinds = entityKinds();
  const names = generateNames(kinds.size * options.subjectsPerRelation, options.seed + 1);
  const facts: Fact[] = [];
  const kindSentences: string[] = [];
  [...kinds.entries()].forEach(([kind, relations], k) => {
    for (let s = 0; s < options.subjectsPerRelation; s++) {
      const subject = names[k * options.subjectsPerRelation + s] as string;
      kindSentences.push(`${subject} is a ${kind} .`);
      relations.forEach((relation, r) => {
        facts.push({
          index: facts.length,
          relation: relation.id,
          subject,
          object: relation.objects[rng.nextInt(relation.objects.length)] as string,
          // Rotates across a relation's subjects (and across a subject's relations), so every template is
          // trained with other subjects and held out for some.
          heldOutTemplate: (s + r) % relation.templates.length,
        });
      });
    }
  });
  const filler = generateFiller(Math.round(facts.length * (options.fillerPerFact ?? 0.5)), rng);
  return { seed: options.seed, relations: RELATIONS, facts, kindSentences, filler };
}

/** The sentences a fact is trained with: every template but its held-out one, followed by the object. */
export function trainingSentences(fact: Fact): string[] {
  const relation = relationById(fact.relation);
  return relation.templates.filter((_, t) => t !== fact.heldOutTemplate).map((t) => `${prompt(t, fact.subject)} ${fact.object} .`);
}

const NOUNS = ['man', 'woman', 'child', 'dog', 'cat', 'bird', 'farmer', 'doctor', 'student', 'king', 'queen', 'river', 'forest', 'village', 'market', 'garden', 'train', 'ship', 'letter', 'song', 'story', 'house', 'road', 'bridge', 'window', 'teacher', 'soldier', 'merchant', 'horse', 'boat'];
const ADJECTIVES = ['old', 'young', 'quiet', 'busy', 'small', 'large', 'cold', 'warm', 'bright', 'dark', 'happy', 'tired', 'strange', 'famous', 'little', 'green', 'empty', 'long', 'new', 'early'];
const VERBS = ['walked to', 'looked at', 'talked about', 'ran past', 'waited near', 'thought about', 'sang about', 'painted', 'visited', 'remembered', 'found', 'watched', 'carried', 'followed', 'cleaned'];
const TIMES = ['in the morning', 'at night', 'after dinner', 'before noon', 'every day', 'last year', 'in the spring', 'during the storm', 'on a sunday', 'for a while'];
const OPENERS = ['The', 'Therefore', 'Because', 'I', 'You', 'Yesterday', 'Later', 'Once', 'Then', 'Sometimes'];

/** Neutral sentences from a small grammar: everyday words, no facts about subjects. */
function generateFiller(count: number, rng: SeededRandom): string[] {
  const pick = <T>(list: readonly T[]): T => list[rng.nextInt(list.length)] as T;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const opener = pick(OPENERS);
    const a = `${pick(ADJECTIVES)} ${pick(NOUNS)}`;
    const b = `${pick(ADJECTIVES)} ${pick(NOUNS)}`;
    let sentence: string;
    switch (rng.nextInt(5)) {
      case 0:
        sentence = `${opener === 'The' ? 'The' : `${opener} the`} ${a} ${pick(VERBS)} the ${b} ${pick(TIMES)} .`;
        break;
      case 1:
        sentence = `${opener === 'I' || opener === 'You' ? opener : `${opener} I`} ${pick(VERBS)} the ${a} and the ${b} ${pick(TIMES)} .`;
        break;
      case 2:
        sentence = `The ${a} ${pick(VERBS)} the ${b} , and then the ${pick(NOUNS)} ${pick(VERBS)} the ${pick(NOUNS)} .`;
        break;
      case 3:
        sentence = `${opener === 'The' ? 'The' : `${opener} the`} ${a} was ${pick(ADJECTIVES)} ${pick(TIMES)} .`;
        break;
      default:
        sentence = `You ${pick(VERBS)} the ${a} ${pick(TIMES)} because the ${b} was ${pick(ADJECTIVES)} .`;
    }
    out.push(sentence);
  }
  return out;
}
