// Layering (DEVELOPERS.md): src/ folders form a stack, and a folder may import only the folders listed
// before it here. workers/ and cli/ are sibling entry points over analysis/ and may not import each other.
import tseslint from 'typescript-eslint';

const LAYERS = ['core', 'formats', 'families', 'gpu', 'lm', 'edit', 'analysis', 'workers', 'cli', 'state', 'ui'];

function importPatterns(layer) {
  const forbidden = LAYERS.slice(LAYERS.indexOf(layer) + 1);
  if (layer === 'cli') forbidden.push('workers');
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
    // Pure layers: no DOM.
    files: ['src/core/**/*.ts', 'src/formats/**/*.ts', 'src/families/**/*.ts', 'src/analysis/**/*.ts'],
    rules: { 'no-restricted-globals': ['error', 'document', 'window', 'localStorage'] },
  },
);
