import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import type * as Ort from 'onnxruntime-web';
import type { BuiltGraph } from '../lm/graphs/graphTypes';
import { graphSessionOptions, type OrtModule, type TextRuntime } from '../lm/languageModel';
import { formatBytes } from '../lm/modelNeeds';
import { encodeModel } from '../lm/onnx/onnxModel';
import type { WeightSink } from '../lm/onnx/weightSink';

/**
 * Weights written to a file as the graph builder places them (page-aligned, so the native runtime can map
 * the file instead of copying it): memory stays at one tensor whatever the model's size.
 */
export class FileWeightSink implements WeightSink {
  /** Page-aligned offsets, so the runtime can map each weight. */
  readonly alignment = 4096;
  /** The file's name: the model beside it refers to it by that. */
  readonly location: string;
  private written = 0;
  private fd: number | null;

  constructor(readonly path: string) {
    this.location = basename(path);
    this.fd = openSync(path, 'w');
  }

  get bytesWritten(): number {
    return this.written;
  }

  place(bytes: Uint8Array): { location: string; offset: number } {
    const pad = (this.alignment - (this.written % this.alignment)) % this.alignment;
    if (pad) this.write(new Uint8Array(pad));
    const offset = this.written;
    this.write(bytes);
    return { location: this.location, offset };
  }

  private write(bytes: Uint8Array): void {
    if (this.fd === null) throw new Error(`${this.path} is closed`);
    for (let at = 0; at < bytes.length; ) at += writeSync(this.fd, bytes, at, bytes.length - at);
    this.written += bytes.length;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Free space where the runtime's weight file goes (unknown: no check). */
function freeSpace(dir: string): { bytes: number; where: string } | undefined {
  try {
    const stats = statfsSync(dir);
    return { bytes: stats.bavail * stats.bsize, where: `the temporary folder ${dir}` };
  } catch {
    return undefined;
  }
}

/** Weights above this are mapped, not pre-packed (see openSession). */
const PREPACK_LIMIT_BYTES = 2 ** 30;

/**
 * The CLI's language-model runtime: onnxruntime-node (native, multi-threaded, no 4 GiB ceiling) running the
 * same graphs as the page. The graph's weights stream into a file in a temporary folder beside the graph's
 * model.onnx, the session opens from that path (ONNX external data), and the folder is removed once the session holds the
 * weights. Null when onnxruntime-node cannot be loaded here (the CLI then uses onnxruntime-web's wasm).
 */
export function nodeTextRuntime(threads = Math.min(4, availableParallelism())): TextRuntime | null {
  let ort: OrtModule;
  try {
    ort = createRequire(import.meta.url)('onnxruntime-node') as OrtModule;
  } catch {
    return null;
  }
  ort.env.logLevel = 'error';
  return {
    ort,
    executionProvider: 'cpu',
    halfTypes: ['F16', 'BF16'],
    // Float32 weights in this process's memory: a model larger than 90% of the machine's RAM is refused
    // beforehand instead of being killed halfway through loading.
    capacity: {
      bytes: Math.floor(0.9 * totalmem()),
      limit: `this machine has ${formatBytes(totalmem())} of memory`,
      instead: 'run it on a machine with more memory',
      scratch: freeSpace(tmpdir()),
    },
    async openSession(build: (sink: WeightSink) => Promise<BuiltGraph>) {
      const dir = mkdtempSync(join(tmpdir(), 'edit-forensics-lm-'));
      try {
        const sink = new FileWeightSink(join(dir, 'weights.bin'));
        let built: BuiltGraph;
        try {
          built = await build(sink);
        } finally {
          sink.close();
        }
        const modelPath = join(dir, 'model.onnx');
        writeFileSync(modelPath, encodeModel(built.model));
        const castOptions = graphSessionOptions(built);
        const session = (await ort.InferenceSession.create(modelPath, {
          executionProviders: ['cpu'],
          intraOpNumThreads: threads,
          interOpNumThreads: 1,
          graphOptimizationLevel: 'all',
          ...castOptions,
          extra: {
            ...castOptions.extra,
            // Pre-packing copies every weight into the kernels' layout: at GPT-2 XL size 22 s and 6 GB of private
            // memory at load, for forward passes 1.7x faster. Without it the runtime maps the page-aligned file
            // (0.9 s, memory the kernel can page out), which wins for what the CLI does at that size (a prompt).
            ...(built.weights.bytesWritten > PREPACK_LIMIT_BYTES ? { session: { disable_prepacking: '1' } } : {}),
          },
        } as Ort.InferenceSession.SessionOptions)) as Ort.InferenceSession;
        return { session, built };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
