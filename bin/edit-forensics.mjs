#!/usr/bin/env node
// The edit-forensics command: runs the TypeScript sources directly (see scripts/node-register.mjs).
import '../scripts/node-register.mjs';

// A reader that stops early (`| head`) closes the pipe: that ends the output, it is not a failure.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
// Exit explicitly: a WebGPU device (Dawn) would otherwise keep the process alive.
process.exit(code);
