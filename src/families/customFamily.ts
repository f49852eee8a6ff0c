import type { ModelFamily } from './modelFamily';

/**
 * A layout the registry does not know, described by the user: a tensor name with `{i}` where the layer
 * index goes, and which stored axis holds the d_ff rows.
 */
export function customFamily(namePattern: string, rowsAxis: 0 | 1): ModelFamily {
  const parts = namePattern.split('{i}');
  if (parts.length !== 2) throw new Error(`tensor pattern "${namePattern}" must contain "{i}" exactly once (e.g. model.layers.{i}.mlp.down_proj.weight)`);
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return {
    id: 'custom',
    description: `custom pattern ${namePattern} (d_ff along stored axis ${rowsAxis})`,
    modelTypes: [],
    mlpOutputPattern: new RegExp(`^${escape(parts[0] ?? '')}(\\d+)${escape(parts[1] ?? '')}$`),
    rowsAxis,
  };
}
