import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import { BASE_POLICY } from './src/workers/contentSecurityPolicy.ts';

/** Cross-origin isolation lets onnxruntime-web use threads (dev and preview servers). */
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

function publicFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? publicFiles(path) : [path];
  });
}

/**
 * Built site only: the Content-Security-Policy <meta> (connect-src is narrowed at run time to the model URL
 * in the link, see src/ui/pageSetup.ts), and precache.json, the service worker's list of every file of the
 * site with a version that changes whenever any of them does.
 */
function staticSite(): Plugin {
  return {
    name: 'edit-forensics-static-site',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: `${BASE_POLICY}; connect-src *` }, injectTo: 'head-prepend' }],
    generateBundle(_, bundle) {
      const hash = createHash('sha256');
      const files = Object.keys(bundle).filter((f) => f !== 'sw.js');
      for (const f of files.sort()) hash.update(f);
      for (const path of publicFiles('public').sort()) {
        const rel = relative('public', path).split('\\').join('/');
        files.push(rel);
        hash.update(rel).update(readFileSync(path));
      }
      files.push('./');
      this.emitFile({ type: 'asset', fileName: 'precache.json', source: JSON.stringify({ version: hash.digest('hex').slice(0, 16), files }) });
    },
  };
}

export default defineConfig({
  // Relative URLs everywhere: the site works from any sub-path (GitHub Pages-style hosting).
  base: './',
  plugins: [react(), staticSite()],
  worker: { format: 'es' },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: {
    rollupOptions: {
      input: { index: 'index.html', sw: 'src/workers/serviceWorker.ts' },
      output: { entryFileNames: (chunk) => (chunk.name === 'sw' ? 'sw.js' : 'assets/[name]-[hash].js') },
    },
  },
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
