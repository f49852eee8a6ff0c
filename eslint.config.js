// Layering (DEVELOPERS.md): src/ folders form a stack, and a folder may import only the folders listed
// before it here. workers/ and cli/ are sibling entry points over analysis/ and may not import each other.
import tseslint from 'typescript-eslint';

const LAYERS = ['core', 'formats', 'families', 'gpu', 'wasm', 'lm', 'native', 'edit', 'analysis', 'workers', 'cli', 'state', 'ui'];

/** Node-only native code (onnxruntime-node): imported by Node entry points (cli, edit/node) only, never by the page. */
const NODE_ONLY = ['native'];

function importPatterns(layer) {
  const forbidden = LAYERS.slice(LAYERS.indexOf(layer) + 1);
  if (layer === 'cli') forbidden.push('workers');
  if (!['cli', 'native'].includes(layer)) forbidden.push(...NODE_ONLY.filter((n) => !forbidden.includes(n)));
  return forbidden.map((other) => ({
    group: [`**/${other}/*`, `**/${other}`],
    message: `src/${layer} may not import src/${other}: imports point down the layers only (see eslint.config.js).`,
  }));
}

const layerRules = LAYERS.map((layer) => ({
  files: [`src/${layer}/**/*.{ts,tsx}`],
  rules: { 'no-restricted-imports': ['error', { patterns: importPatterns(layer) }] },
}));

export default tseslint.config(
  { ignores: ['dist/**', '.cache/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', 'public/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...layerRules,
  {
    // Node entry points of the forge may use the native kernels; the rest of edit/ runs in the page too.
    files: ['src/edit/node/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: importPatterns('edit').filter((p) => !p.group.includes('**/native')) }] },
  },
  {
    // Pure layers: no DOM.
    files: ['src/core/**/*.ts', 'src/formats/**/*.ts', 'src/families/**/*.ts', 'src/analysis/**/*.ts'],
    rules: { 'no-restricted-globals': ['error', 'document', 'window', 'localStorage'] },
  },
);
