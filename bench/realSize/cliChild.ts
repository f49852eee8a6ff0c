import { readFileSync } from 'node:fs';
import { main } from '../../src/cli/main';

/**
 * Child process of the real-size bench: runs one CLI command (argv after this script) in a fresh process and
 * prints, as its last line, the exit code, wall time and the process's peak resident memory (native runtime
 * threads included), so each command's memory is its own.
 */
const args = process.argv.slice(2);
const rssBefore = process.memoryUsage().rss;
const anonNow = () => 1024 * Number(/RssAnon:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
// The process's own pages before the command (Node, the loader, the native runtime's library).
const anonBefore = anonNow();
const t0 = performance.now();
let out = '';
let err = '';
const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t) });
const seconds = (performance.now() - t0) / 1000;
// Resident memory now, split: anonymous (the process's own) and file-backed (mapped weights the kernel may page out).
const status = readFileSync('/proc/self/status', 'utf8');
const kb = (field: string) => 1024 * Number(/(\d+) kB/.exec(status.split('\n').find((l) => l.startsWith(field)) ?? '')?.[1] ?? NaN);
console.log(JSON.stringify({ code, seconds, rssBefore, anonBefore, maxRss: process.resourceUsage().maxRSS * 1024, rssAnon: kb('RssAnon:'), rssFile: kb('RssFile:'), out, err: err.slice(-4000) }));
process.exit(0);
