/** A small argument parser: positional files, `--flag value`, `--switch`, and `--original <files...>`. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface ParsedArgs {
  command: string | undefined;
  positional: string[];
  lists: Record<string, string[]>;
  values: Record<string, string>;
  switches: Set<string>;
}

export interface ArgSpec {
  /** Flags that take the following arguments up to the next flag. */
  lists: readonly string[];
  /** Flags that take one value. */
  values: readonly string[];
  /** Flags without a value. */
  switches: readonly string[];
}

export function parseArgs(argv: readonly string[], spec: ArgSpec): ParsedArgs {
  const [command, ...rest] = argv;
  const parsed: ParsedArgs = { command, positional: [], lists: {}, values: {}, switches: new Set() };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (!arg.startsWith('--')) {
      parsed.positional.push(arg);
      continue;
    }
    const [flag, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (spec.switches.includes(flag)) {
      parsed.switches.add(flag);
    } else if (spec.values.includes(flag)) {
      const value = inline ?? rest[++i];
      if (value === undefined) throw new UsageError(`--${flag} needs a value`);
      parsed.values[flag] = value;
    } else if (spec.lists.includes(flag)) {
      const items: string[] = inline ? [inline] : [];
      while (i + 1 < rest.length && !(rest[i + 1] as string).startsWith('--')) items.push(rest[++i] as string);
      if (items.length === 0) throw new UsageError(`--${flag} needs at least one file`);
      parsed.lists[flag] = items;
    } else {
      throw new UsageError(`unknown option --${flag}`);
    }
  }
  return parsed;
}

export function integerOption(values: Record<string, string>, name: string, fallback: number, min: number, max: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  return n;
}
