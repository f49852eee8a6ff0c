import { defineConfig } from '@playwright/test';

/** Debian's Chromium with WebGPU on SwiftShader (DEVELOPERS.md); pages must come from http://localhost. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
];

const PORT = 4173;
export const HOSTED_PREFIX = '/edit-forensics/';
export const HOSTED_PLAIN = { port: 4174, isolate: false, cors: true };
export const HOSTED_ISOLATED = { port: 4175, isolate: true, cors: false };

export default defineConfig({
  testDir: 'e2e',
  timeout: 180_000,
  expect: { timeout: 60_000 },
  workers: 1,
  reporter: [['list']],
  globalSetup: './e2e/globalSetup.ts',
  use: {
    baseURL: `http://localhost:${PORT}`,
    headless: true,
    acceptDownloads: true,
    launchOptions: { executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium', args: CHROMIUM_ARGS },
  },
  webServer: [
    {
      command: `npx vite build --logLevel warn && npx vite preview --host localhost --port ${PORT} --strictPort`,
      url: `http://localhost:${PORT}`,
      reuseExistingServer: !process.env['CI'],
      timeout: 180_000,
    },
    // The built site as a GitHub Pages-like host would serve it: under a sub-path, no COOP/COEP, CORS open
    // (e2e/hosted.spec.ts); and the same with COOP/COEP and no CORS. Both answer 404 until dist/ is built.
    ...[HOSTED_PLAIN, HOSTED_ISOLATED].map((h) => ({
      command: `node --import ./scripts/node-register.mjs scripts/staticServer.ts --root dist --prefix ${HOSTED_PREFIX} --port ${h.port}${h.isolate ? ' --isolate' : ''}${h.cors ? ' --cors' : ''}`,
      url: `http://localhost:${h.port}${HOSTED_PREFIX}`,
      reuseExistingServer: !process.env['CI'],
      timeout: 240_000,
    })),
  ],
});
