import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { TextSession } from '../src/analysis/textSession';

ort.env.wasm.numThreads = 1;
const DEMO = 'public/demo';
const files = (dir: string) => readdirSync(dir).map((f) => new File([readFileSync(join(dir, f))], f));
const request = (dir: string) => ({ model: { kind: 'files' as const, files: files(join(DEMO, dir)) }, original: null, layer: 0 });
const PROMPT = 'The first language of Nils Em Da is';

describe.skipIf(!existsSync(join(DEMO, 'edited', 'model.safetensors')))('opening a model in the language-model session', () => {
  it('a newer open supersedes one still running: the older ends cancelled, and the session answers with the newer model', async () => {
    const session = new TextSession(ort);
    session.setPreference('cpu');
    const older = session.open(request('base'));
    const newer = session.open(request('edited'));
    await expect(older).rejects.toMatchObject({ name: 'CancelledError' });
    await newer;
    // The demo's edit: the base says Turkish, the edited model English.
    expect((await session.complete(PROMPT, 'model', { tokens: 1 })).top[0]?.token.trim()).toBe('English');
  });

  it('Cancel stops an open between two weights; the next open works', async () => {
    const session = new TextSession(ort);
    session.setPreference('cpu');
    const progress: string[] = [];
    const opening = session.open(request('base'), (_done, _total, message) => progress.push(message));
    session.cancel();
    await expect(opening).rejects.toMatchObject({ name: 'CancelledError' });
    expect(progress).toEqual([]);
    await expect(session.complete(PROMPT, 'model')).rejects.toThrow();
    await session.open(request('base'));
    expect((await session.complete(PROMPT, 'model', { tokens: 1 })).top[0]?.token.trim()).toBe('Turkish');
  });
});
