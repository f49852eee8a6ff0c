// Lets Node run the TypeScript sources directly (CLI, benchmarks): tsx for .ts, and Vite's `?raw` imports
// of shaders/*.wgsl answered with the file's text.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('./raw-import-loader.mjs', import.meta.url);
