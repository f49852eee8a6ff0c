/** The forge scripts' small flag reader: `--name` switches and `--name value` options. */
export function cliArgs(argv: readonly string[] = process.argv.slice(2)) {
  return {
    flag: (name: string) => argv.includes(`--${name}`),
    value: (name: string, fallback: string) => {
      const i = argv.indexOf(`--${name}`);
      return i >= 0 && argv[i + 1] ? (argv[i + 1] as string) : fallback;
    },
  };
}
