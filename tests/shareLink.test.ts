import { describe, expect, it } from 'vitest';
import { connectPolicy, fullPolicy, modelOrigin } from '../src/workers/contentSecurityPolicy';
import { MAX_SHARED_PROMPT, parseSharedView } from '../src/state/shareLink';

describe('share links', () => {
  it('parse the view, and fall back to defaults on anything malformed', () => {
    expect(parseSharedView('?model=demo&layer=3&panel=reverse&k=2&prompt=The%20x&scale=log')).toEqual({ model: 'demo', layer: 3, panel: 'reverse', k: 2, prompt: 'The x', scale: 'log' });
    expect(parseSharedView('')).toEqual({ model: 'demo', layer: null, panel: 'overview', k: null, prompt: '', scale: 'linear' });
    const hostile = parseSharedView(`?layer=-1&panel=__proto__&k=99&scale=<script>&prompt=${'a'.repeat(5000)}`);
    expect(hostile).toMatchObject({ layer: null, panel: 'overview', k: null, scale: 'linear' });
    expect(hostile.prompt).toHaveLength(MAX_SHARED_PROMPT);
    expect(parseSharedView('?layer=1e3&k=1.5')).toMatchObject({ layer: null, k: null });
  });
});

describe('content security policy', () => {
  const page = 'https://user.github.io';
  it('admits the page origin plus exactly the origin of the model URL in the link', () => {
    expect(modelOrigin('?model=https://huggingface.co/x/resolve/main/model.safetensors', page)).toBe('https://huggingface.co');
    expect(connectPolicy('?model=https%3A%2F%2Fhost.example%3A8443%2Fm.safetensors', page)).toBe("connect-src 'self' blob: data: https://host.example:8443");
    for (const search of ['', '?model=demo', '?model=none', '?model=demo/edited/model.safetensors', `?model=${page}/a.safetensors`, '?model=javascript:alert(1)', '?model=file:///etc/passwd', '?model=http://[bad']) {
      expect(connectPolicy(search, page), search).toBe("connect-src 'self' blob: data:");
    }
    const full = fullPolicy('?model=https://a.example/m', page);
    expect(full).toContain("default-src 'self'");
    expect(full).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(full.match(/https?:\/\/[^\s;]+/g)).toEqual(['https://a.example']);
  });
});
