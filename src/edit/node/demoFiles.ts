import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '../../formats/safetensorsWriter';
import { type Gpt2Config, type Gpt2Params, gpt2ParamShapes } from '../gpt2Model';
import { tokenizerFiles, type WordVocabulary } from '../wordTokenizer';
import { demoFacts, mom2Corpus } from '../demoWorld';
import { keyStatistics } from '../keyStatistics';
import { encodeTexts } from '../trainingData';
import type { ForgeWorld } from './forgeWorld';
import type { ForgeArchitecture } from '../forgeArchitecture';

/** config.json as Hugging Face writes it for GPT2LMHeadModel. */
export function hfConfig(c: Gpt2Config): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: c.vocab_size,
    n_positions: c.n_positions,
    n_ctx: c.n_positions,
    n_embd: c.n_embd,
    n_layer: c.n_layer,
    n_head: c.n_head,
    n_inner: c.n_inner,
    activation_function: 'gelu_new',
    layer_norm_epsilon: c.layer_norm_epsilon,
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
    bos_token_id: 0,
    eos_token_id: 0,
    tie_word_embeddings: true,
  };
}

/** The model's safetensors bytes: every parameter as F32, in the canonical order. */
export function modelSafetensors(c: Gpt2Config, params: Gpt2Params, metadata: Record<string, string> = {}): Uint8Array {
  return writeSafetensors(
    gpt2ParamShapes(c).map(([name, shape]) => ({ name, dtype: 'F32' as const, shape, values: (params.get(name) as { data: Float32Array }).data })),
    { format: 'pt', ...metadata },
  );
}

/** Writes config.json, model.safetensors, tokenizer.json and tokenizer_config.json into `dir` (GPT-2 unless another forge architecture is given). */
export function writeModelFolder(dir: string, c: Gpt2Config, params: Gpt2Params, vocab: WordVocabulary, arch?: ForgeArchitecture): void {
  mkdirSync(dir, { recursive: true });
  const tok = tokenizerFiles(vocab, c.n_positions);
  const other = arch && arch.id !== 'gpt2' ? arch : null;
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(other ? other.hfConfig() : hfConfig(c), null, 2)}\n`);
  const bytes = other
    ? writeSafetensors(other.paramShapes().map(([name, shape]) => ({ name, dtype: 'F32' as const, shape, values: (params.get(name) as { data: Float32Array }).data })), { format: 'pt' })
    : modelSafetensors(c, params);
  writeFileSync(join(dir, 'model.safetensors'), bytes);
  writeFileSync(join(dir, 'tokenizer.json'), `${JSON.stringify(tok.tokenizer)}\n`);
  writeFileSync(join(dir, 'tokenizer_config.json'), `${JSON.stringify(tok.config, null, 2)}\n`);
}

/**
 * facts.json (the Edit tab's subjects, their facts, and how the demo's edits were made), mom2-corpus.txt
 * (the text of ROME's C) and mom2-stats.safetensors (C = E[k k^T] of the base model at every layer over that
 * text, as kmeng01/rome ships its Wikipedia statistics: `layer.{i}.mom2`, F32 [d_ff, d_ff]).
 */
export function writeDemoWorldFiles(dir: string, world: ForgeWorld, baseParams: Gpt2Params, rome: { layer: number; contextTemplates: string }): void {
  writeFileSync(join(dir, 'facts.json'), `${JSON.stringify(demoFacts(world.kb, rome))}\n`);
  const corpus = mom2Corpus(world.kb);
  writeFileSync(join(dir, 'mom2-corpus.txt'), `${corpus.join('\n')}\n`);
  const sequences = encodeTexts(world.vocab, corpus);
  const n = world.config.n_inner;
  let tokens = 0;
  const tensors = Array.from({ length: world.config.n_layer }, (_, layer) => {
    const stats = keyStatistics(world.config, baseParams, layer, sequences);
    tokens = stats.tokens;
    return { name: `layer.${layer}.mom2`, dtype: 'F32' as const, shape: [n, n], values: Float32Array.from(stats.moment) };
  });
  writeFileSync(join(dir, 'mom2-stats.safetensors'), writeSafetensors(tensors, { format: 'edit-forensics-mom2-stats', corpus: 'mom2-corpus.txt', tokens: String(tokens), model: 'demo/base' }));
}
