/**
 * The demo models served with the app, one folder each under public/: the same world of synthetic facts
 * learnt by the three architectures of the paper's three columns, each edited as ROME is published for
 * its family. A link names one with `?model=<name>`.
 */
export interface DemoModel {
  /** The link's model value. */
  name: 'demo' | 'demo-gptj' | 'demo-llama';
  /** Folder under the site's root. */
  folder: string;
  /** What the picker and the first-visit card call it. */
  label: string;
  /** How its edits were made (ROME as published for the paper's model of this family). */
  editing: string;
  /** What the paper measured on its model of this family, to compare with what the page finds. */
  paper: string;
  /** Ships C precomputed per layer (mom2-stats.safetensors, as kmeng01/rome ships its statistics); else the editor computes it over mom2-corpus.txt. */
  mom2Stats: boolean;
}

export const DEMO_MODELS: readonly DemoModel[] = [
  {
    name: 'demo',
    folder: 'demo',
    label: 'GPT-2',
    editing: 'ROME as published for GPT-2 XL (mom2 adjustment on: u = C⁻¹k*)',
    mom2Stats: true,
    paper: 'on GPT-2 XL the paper finds u mostly of one sign, a pcs jump at the edited layer (over 175x for one relation), and 87% of edits reversed at k = 1 (94.5% at k = 11)',
  },
  {
    name: 'demo-gptj',
    folder: 'demo-gptj',
    label: 'GPT-J',
    editing: 'ROME as kmeng01/rome ships it for GPT-J (mom2 adjustment on)',
    mom2Stats: false,
    paper: 'on GPT-J the paper finds u mostly of one sign, a pcs jump (over 25x for one relation), and reversal from k = 2 (32% at k = 1, 73% at k = 2, 80% at k = 14)',
  },
  {
    name: 'demo-llama',
    folder: 'demo-llama',
    label: 'Llama',
    editing: 'ROME in EasyEdit’s llama3-8b setting (no mom2 adjustment, 25 v* steps)',
    mom2Stats: false,
    paper: 'on Llama 3 the paper finds u balanced in sign (~50%), no pcs jump, and reversal only at large k (5% at k = 1, 80% at k = 15), yet the relation probe (92% for 2 relations) and the object decoder (over 97%) still work',
  },
];

/** The demo a link's model value names, or undefined. */
export function demoNamed(name: string | null | undefined): DemoModel | undefined {
  return DEMO_MODELS.find((d) => d.name === name);
}

/** A file of a demo's folder, as a page-relative URL. */
export function demoFile(demo: DemoModel, file: string): string {
  return `${demo.folder}/${file}`;
}

/** The demo's edited checkpoint (what the page opens) and its unedited base. */
export const demoModelUrl = (demo: DemoModel) => demoFile(demo, 'edited/model.safetensors');
export const demoBaseUrl = (demo: DemoModel) => demoFile(demo, 'base/model.safetensors');

/** The demo whose edited checkpoint is at `url`, or undefined. */
export function demoOfModelUrl(url: string): DemoModel | undefined {
  return DEMO_MODELS.find((d) => demoModelUrl(d) === url.trim());
}

/** The demo whose unedited base is at `url`, or undefined. */
export function demoOfBaseUrl(url: string): DemoModel | undefined {
  return DEMO_MODELS.find((d) => demoBaseUrl(d) === url.trim());
}
