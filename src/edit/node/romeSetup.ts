import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemorySource } from '../../formats/byteSource';
import { openSafetensors } from '../../formats/safetensors';
import { readTensorRows } from '../../formats/tensorReader';
import { mom2Corpus } from '../demoWorld';
import { CONTEXT_TEMPLATE_SEED, contextTemplates, ROME_TEMPLATE_LENGTHS } from '../contextTemplates';
import { Tensor } from '../engine/tensor';
import { type Gpt2Config, gpt2ParamShapes, type Gpt2Params } from '../gpt2Model';
import { type KeyStatistics, keyStatistics } from '../keyStatistics';
import { robustCholesky } from '../../core/cholesky';
import type { RomeContext } from '../rome';
import { gpt2Editable } from '../editableModel';
import { wordRomeTokenizer } from '../romeTokenizer';
import type { WordVocabulary } from '../wordTokenizer';
import { encodeTexts } from '../trainingData';
import type { ForgeWorld } from './forgeWorld';

/** Reads a model folder's model.safetensors into frozen parameters. */
export async function loadModel(dir: string, world: ForgeWorld): Promise<Gpt2Params> {
  const path = join(dir, 'model.safetensors');
  const file = await openSafetensors(new MemorySource(path, new Uint8Array(readFileSync(path))));
  const params: Gpt2Params = new Map();
  for (const [name, shape] of gpt2ParamShapes(world.config)) {
    const info = file.tensors.get(name);
    if (!info) throw new Error(`${path} has no tensor ${name}`);
    const data = shape.length === 2 ? (await readTensorRows(info, 0)).data : (await readTensorRows({ ...info, shape: [1, shape[0] as number] }, 0)).data;
    params.set(name, new Tensor(data, shape, false));
  }
  return params;
}

/**
 * Everything ROME needs for edits at `layer`: context templates and C's Cholesky factor. C is estimated over
 * the neutral text: the filler and the "{subject} is a {kind} ." sentences. Like ROME's Wikipedia sample it
 * mentions the subjects (without their facts); over the filler alone, subject keys fall where C has little
 * variance, C^-1 inflates them, and edits lose their specificity (measured: 53% neighbourhood at layer 0).
 */
export function romeContext(
  world: ForgeWorld,
  params: Gpt2Params,
  layer: number,
  templateLengths: readonly [number, number][] = ROME_TEMPLATE_LENGTHS,
  corpus: readonly string[] = mom2Corpus(world.kb),
): RomeContext & { config: Gpt2Config; params: Gpt2Params; vocab: WordVocabulary; covarianceRidge: number; covarianceTokens: number; keyStatistics: KeyStatistics } {
  const tokenizer = wordRomeTokenizer(world.vocab);
  const model = gpt2Editable(world.config, params);
  const templates = contextTemplates(model, tokenizer, CONTEXT_TEMPLATE_SEED, templateLengths);
  const stats = keyStatistics(world.config, params, layer, encodeTexts(world.vocab, corpus));
  const { factor, ridge } = robustCholesky(stats.moment, world.config.n_inner);
  return { model, config: world.config, params, tokenizer, vocab: world.vocab, contextTemplates: templates, covarianceFactor: factor, covarianceRidge: ridge, covarianceTokens: stats.tokens, keyStatistics: stats };
}
