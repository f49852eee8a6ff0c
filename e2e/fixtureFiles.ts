import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFixture, type FixtureSpec } from '../tests/fixtures/syntheticCheckpoint';

export const FIXTURE_DIR = join(import.meta.dirname, '.fixtures');

/** The checkpoints the e2e tests drop into the page, written once per run. */
export const E2E_FIXTURES: Record<string, FixtureSpec> = {
  gpt2: { family: 'gpt2', layers: 6, dFf: 256, dModel: 64, editedLayer: 3, positiveFraction: 0.85, seed: 41 },
  llamaSharded: { family: 'llama', layers: 5, dFf: 320, dModel: 64, editedLayer: 1, positiveFraction: 0.5, dtype: 'BF16', shards: 2, seed: 42 },
  large: { family: 'gpt2', layers: 24, dFf: 1024, dModel: 256, editedLayer: 20, positiveFraction: 0.85, seed: 43 },
};

export function fixturePaths(name: string, which: 'edited' | 'original' = 'edited'): string[] {
  const dir = join(FIXTURE_DIR, name, which);
  return readdirSync(dir).sort().map((f) => join(dir, f));
}

export function writeFixtures(): void {
  for (const [name, spec] of Object.entries(E2E_FIXTURES)) {
    const fixture = buildFixture(spec);
    for (const which of ['edited', 'original'] as const) {
      const dir = join(FIXTURE_DIR, name, which);
      mkdirSync(dir, { recursive: true });
      for (const f of fixture[which]) writeFileSync(join(dir, f.name), f.bytes);
    }
  }
  mkdirSync(join(FIXTURE_DIR, 'bad'), { recursive: true });
  // A header length far past the end of the file.
  const bad = new Uint8Array(64);
  new DataView(bad.buffer).setBigUint64(0, 5000n, true);
  writeFileSync(join(FIXTURE_DIR, 'bad', 'broken.safetensors'), bad);
}
