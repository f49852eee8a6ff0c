import { cpuBackend } from '../src/core/matrixBackend';
import { scanModel } from '../src/analysis/scanModel';
import { openCheckpoint } from '../src/formats/checkpoint';
import { directorySiblingResolver, NodeFileSource } from '../src/cli/nodeFileSource';

/** Child process of the memory benchmark: scans the stack at argv[2] on the CPU and prints its own peak RSS. */
const path = process.argv[2] as string;
const rssBefore = process.memoryUsage().rss;
const source = await NodeFileSource.open(path);
const model = await openCheckpoint([source], directorySiblingResolver(path, [source]));
const t0 = performance.now();
const result = await scanModel(model, { backend: cpuBackend, k: 16 });
const scanSeconds = (performance.now() - t0) / 1000;
await source.close();
console.log(JSON.stringify({ scanSeconds, rssBefore, maxRss: process.resourceUsage().maxRSS * 1024, flagged: result.report.verdict.editedLayers }));
