import { gpt2 } from './gpt2';
import { gptj } from './gptj';
import { gptNeox } from './gptNeox';
import { llama } from './llama';
import { findLayerMatrices, type LayerMatrix, type ModelFamily } from './modelFamily';

/** Every known family, in the order tensor-name detection tries them. */
export const FAMILIES: readonly ModelFamily[] = [gpt2, gptj, llama, gptNeox];

export interface FamilyMatch {
  family: ModelFamily;
  layers: LayerMatrix[];
  /** How the family was chosen, for the UI and the report. */
  detectedBy: 'config' | 'tensor-names' | 'user';
}

/**
 * Chooses the family: the user's override first, then config.json's model_type, then the first family whose
 * pattern matches any tensor name. Returns null when nothing matches (the caller asks for a pattern).
 */
export function detectFamily(modelType: string | null, tensorNames: readonly string[], override?: ModelFamily): FamilyMatch | null {
  if (override) return withLayers(override, tensorNames, 'user');
  if (modelType) {
    const byType = FAMILIES.find((f) => f.modelTypes.includes(modelType));
    if (byType) {
      const match = withLayers(byType, tensorNames, 'config');
      if (match) return match;
    }
  }
  for (const family of FAMILIES) {
    const match = withLayers(family, tensorNames, 'tensor-names');
    if (match) return match;
  }
  return null;
}

function withLayers(family: ModelFamily, tensorNames: readonly string[], detectedBy: FamilyMatch['detectedBy']): FamilyMatch | null {
  const layers = findLayerMatrices(family, tensorNames);
  return layers.length > 0 ? { family, layers, detectedBy } : null;
}

export function familyById(id: string): ModelFamily | undefined {
  return FAMILIES.find((f) => f.id === id);
}
