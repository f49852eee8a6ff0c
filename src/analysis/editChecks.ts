import type { EditableModel } from '../edit/editableModel';
import type { DemoFacts } from '../edit/demoWorld';
import type { TextTokenizer } from '../lm/tokenizer';
import type { EditSpec } from './editSpec';

/** The most likely next token and its probability, with the probability of a token of interest. */
export interface TokenGuess {
  token: string;
  probability: number;
  /** Probability of the edit's new object. */
  targetProbability: number;
}

/** One prompt before and after an edit: efficacy (the edit prompt), generalisation (paraphrases), specificity (neighbours). */
export interface EditCheck {
  kind: 'edit prompt' | 'paraphrase' | 'neighbour';
  prompt: string;
  /** What the edited model should answer: the new object, or (neighbours) what it answered before. */
  expected: string;
  before: TokenGuess;
  after: TokenGuess;
  ok: boolean;
}

const NEIGHBOURS = 5;

/** The text of one token as a reader sees it (GPT-2's BPE marks a leading space with "Ġ"). */
export function tokenWord(tokenizer: TextTokenizer, id: number): string {
  return tokenizer.decodeText([id]).trim() || tokenizer.tokenText(id);
}

/** Next-token guesses for `prompts` (each as the model reads it), with `targetId`'s probability. */
export function guessNextTokens(model: EditableModel, tokenizer: TextTokenizer, prompts: readonly string[], targetId: number): TokenGuess[] {
  return prompts.map((text) => {
    const ids = Int32Array.from(tokenizer.encode(text).slice(-model.positions));
    const logits = model.forward(null, ids, 1, ids.length, { logitRows: Int32Array.from([ids.length - 1]) }).data;
    let best = 0;
    let max = -Infinity;
    for (let j = 0; j < logits.length; j++) {
      if ((logits[j] as number) > max) {
        max = logits[j] as number;
        best = j;
      }
    }
    let sum = 0;
    for (let j = 0; j < logits.length; j++) sum += Math.exp((logits[j] as number) - max);
    return { token: tokenWord(tokenizer, best), probability: 1 / sum, targetProbability: Math.exp((logits[targetId] as number) - max) / sum };
  });
}

/** The prompts an edit is judged on: its own, and where the world's facts are known, paraphrases and neighbours. */
export function checkPrompts(spec: EditSpec, facts: DemoFacts | null): { kind: EditCheck['kind']; prompt: string }[] {
  const fill = (template: string, subject: string) => template.replace('{}', subject);
  const prompts: { kind: EditCheck['kind']; prompt: string }[] = [{ kind: 'edit prompt', prompt: fill(spec.prompt, spec.subject) }];
  const relation = facts?.relations.find((r) => r.templates.includes(spec.prompt));
  if (!facts || !relation) return prompts;
  for (const t of relation.templates) if (t !== spec.prompt) prompts.push({ kind: 'paraphrase', prompt: fill(t, spec.subject) });
  const others = facts.facts.filter((f) => f.relation === relation.id && f.subject !== spec.subject).slice(0, NEIGHBOURS);
  for (const f of others) prompts.push({ kind: 'neighbour', prompt: fill(spec.prompt, f.subject) });
  return prompts;
}

/** Before and after on every check prompt. */
export function editChecks(before: EditableModel, after: EditableModel, tokenizer: TextTokenizer, spec: EditSpec, targetId: number, facts: DemoFacts | null): EditCheck[] {
  const prompts = checkPrompts(spec, facts);
  const texts = prompts.map((p) => p.prompt);
  const was = guessNextTokens(before, tokenizer, texts, targetId);
  const now = guessNextTokens(after, tokenizer, texts, targetId);
  return prompts.map((p, i) => {
    const b = was[i] as TokenGuess;
    const a = now[i] as TokenGuess;
    const expected = p.kind === 'neighbour' ? b.token : spec.target;
    return { ...p, expected, before: b, after: a, ok: a.token === expected };
  });
}
