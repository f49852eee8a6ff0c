import { detectFamily } from '../families/registry';
import { FormatError } from '../formats/formatError';
import { readTensorRows } from '../formats/tensorReader';
import type { OrtModule } from '../lm/languageModel';
import { loadTokenizer } from '../lm/tokenizer';
import { type ModelInput, openModelInput } from './modelInput';
import { type Completion, completePrompt, openTextModel, type TextModel } from './textModel';

/** Which matrix a run uses: the loaded checkpoint's own, or the original checkpoint's of the same layer. */
export type MatrixVariant = 'model' | 'original';

export interface TextModelInfo {
  family: string;
  layer: number;
  hasOriginal: boolean;
  executionProvider: 'wasm' | 'webgpu';
}

/**
 * The worker's language-model state: one ONNX session of the loaded checkpoint, and the original's matrix
 * of the chosen layer ready to swap in, so original and edited answers come from the same session.
 */
export class TextSession {
  private model: TextModel | null = null;
  private originalMatrix: Float32Array | null = null;
  private current: MatrixVariant = 'model';

  constructor(
    private readonly ort: OrtModule,
    private readonly executionProvider: () => Promise<'wasm' | 'webgpu'>,
  ) {}

  async open(request: { model: ModelInput; original: ModelInput | null; layer: number }): Promise<TextModelInfo> {
    await this.model?.lm.release();
    this.model = null;
    this.originalMatrix = null;
    const { checkpoint, resolve } = await openModelInput(request.model);
    const tokenizerSource = await resolve('tokenizer.json');
    if (!tokenizerSource) throw new FormatError(checkpoint.label, 'no tokenizer.json with the model: running it needs its tokenizer');
    const configSource = await resolve('tokenizer_config.json');
    const tokenizer = loadTokenizer(
      { name: tokenizerSource.name, bytes: await tokenizerSource.read(0, tokenizerSource.size) },
      configSource ? { name: configSource.name, bytes: await configSource.read(0, configSource.size) } : undefined,
    );
    const model = await openTextModel(this.ort, checkpoint, tokenizer, request.layer, await this.executionProvider());
    if (request.original) {
      const original = (await openModelInput(request.original)).checkpoint;
      const match = detectFamily(original.config?.modelType ?? null, [...original.tensors.keys()]);
      const entry = match?.layers.find((l) => l.layer === request.layer);
      if (!match || !entry) throw new FormatError(original.label, `has no layer ${request.layer} of a known family to compare with`);
      const matrix = (await readTensorRows(original.tensors.get(entry.tensor)!, match.family.rowsAxis)).data;
      if (matrix.length !== model.storedMatrix.length) throw new FormatError(original.label, `layer ${request.layer}'s matrix has another shape than the model's: not its original`);
      this.originalMatrix = matrix;
    }
    this.model = model;
    this.current = 'model';
    return { family: model.family, layer: model.layer, hasOriginal: this.originalMatrix !== null, executionProvider: model.lm.executionProvider };
  }

  /** Top-k and greedy continuation with the chosen matrix (swapped in only when it changes). */
  async complete(prompt: string, variant: MatrixVariant, options: { topK?: number; tokens?: number } = {}): Promise<Completion> {
    const model = this.model;
    if (!model) throw new FormatError('(no model)', 'load a model before running prompts');
    if (variant === 'original' && !this.originalMatrix) throw new FormatError('(no original)', 'give the original checkpoint to compare with');
    if (variant !== this.current) {
      await model.lm.setSwap(variant === 'original' ? (this.originalMatrix as Float32Array) : model.storedMatrix);
      this.current = variant;
    }
    return completePrompt(model, prompt, options);
  }
}
