import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main';
import { buildFixture } from './fixtures/syntheticCheckpoint';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'ef-cli-'));
const fixture = buildFixture({ family: 'gptj', layers: 5, dFf: 160, dModel: 40, editedLayer: 2, positiveFraction: 0.85, shards: 2, seed: 31 });
for (const which of ['edited', 'original'] as const) {
  mkdirSync(join(dir, which));
  for (const f of fixture[which]) writeFileSync(join(dir, which, f.name), f.bytes);
}

describe('edit-forensics scan', () => {
  it('prints the per-layer table for a folder and flags the edited layer', async () => {
    const r = await run(['scan', join(dir, 'edited'), '--backend', 'cpu', '--k', '8']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/model: gptj .* 5 layers, 160 x 40 F32/);
    expect(r.out).toMatch(/^\s+2 .*EDITED\?/m);
    expect(r.out).toContain('verdict: layer 2 looks edited');
  });

  it('prints the JSON report with the diff when --original is given', async () => {
    const r = await run(['scan', join(dir, 'edited'), '--original', join(dir, 'original'), '--json', '--backend', 'cpu', '--k', '8']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(Object.keys(report)).toEqual(['schemaVersion', 'backend', 'model', 'layers', 'diff', 'verdict']);
    expect(report.backend).toBe('cpu');
    expect(report.layers).toHaveLength(5);
    expect(Object.keys(report.layers[0])).toEqual(['layer', 'tensor', 'pcs', 'pcsZ', 'sigma', 'sameDirectionFraction', 'flagged']);
    expect(report.layers[0].sigma).toHaveLength(8);
    expect(Object.keys(report.diff.layers[0])).toEqual(['layer', 'frobenius', 'rankOneShare', 'sameDirectionFraction']);
    expect(report.verdict.editedLayers).toEqual([2]);
  });

  it('exits 2 with the message on stderr for bad input and bad usage', async () => {
    writeFileSync(join(dir, 'junk.safetensors'), new Uint8Array([1, 2, 3]));
    const cases: [string[], RegExp][] = [
      [['scan', join(dir, 'junk.safetensors')], /junk\.safetensors: too small to be a safetensors file/],
      [['scan', join(dir, 'nope')], /nope: does not exist/],
      [['scan'], /scan needs the model's files/],
      [['scan', join(dir, 'edited'), '--k', '0'], /--k must be an integer from 1 to 256/],
      [['scan', join(dir, 'edited'), '--frobnicate'], /unknown option --frobnicate/],
      [['scan', join(dir, 'edited'), '--tensor-pattern', 'x.weight', '--rows-axis', '0'], /must contain "\{i\}"/],
      [['scan', join(dir, 'edited'), '--tensor-pattern', 'blocks.{i}.w', '--rows-axis', '0'], /no tensor matches the pattern/],
      [['frobnicate'], /unknown command "frobnicate"/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.out).toBe('');
    }
  });
});
