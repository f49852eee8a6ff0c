import { FormatError } from '../formats/formatError';
import { type FileInput, openFileInput } from './modelInput';

/** The non-empty lines of a UTF-8 text file (one sample or sentence a line), checked and bounded. */
export async function readTextLines(input: FileInput, options: { maxBytes: number; minChars?: number; maxLines?: number }): Promise<{ name: string; lines: string[] }> {
  const source = await openFileInput(input);
  if (source.size > options.maxBytes) throw new FormatError(source.name, `is over ${options.maxBytes / 1e6} MB: give at most a few thousand lines of text`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await source.read(0, source.size));
  } catch (error) {
    if (error instanceof FormatError) throw error;
    throw new FormatError(source.name, 'is not UTF-8 text (one sample per line)');
  }
  const minChars = options.minChars ?? 1;
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length >= minChars)
    .slice(0, options.maxLines ?? Infinity);
  if (lines.length === 0) throw new FormatError(source.name, minChars > 1 ? `has no line of at least ${minChars} characters` : 'has no text');
  return { name: source.name, lines };
}
