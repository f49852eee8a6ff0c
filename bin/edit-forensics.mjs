#!/usr/bin/env node
// The edit-forensics command: runs the TypeScript sources directly (see scripts/node-register.mjs).
import '../scripts/node-register.mjs';

const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
// Exit explicitly: a WebGPU device (Dawn) would otherwise keep the process alive.
process.exit(code);
