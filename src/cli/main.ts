import { DEFAULT_SCAN, KEY_WHITENING_AUTO_MAX_FF, KEY_WHITENING_MAX_FF, scanModel } from '../analysis/scanModel';
import { reportToJson } from '../analysis/scanReport';
import { customFamily } from '../families/customFamily';
import { FormatError } from '../formats/formatError';
import { completePrompt, loadTokenizerBeside, openTextModel } from '../analysis/textModel';
import { integerOption, type ParsedArgs, parseArgs, UsageError } from './argv';
import { chooseBackend, textRuntimeForNode } from './backendForNode';
import { type NodeFileSource, openCheckpointAt } from './nodeFileSource';
import { formatScanTable } from './scanTable';
import { scanTimingText } from '../analysis/scanTiming';
import { reverse } from './reverse';
import { trace } from './trace';
import { edit } from './edit';

const USAGE = `usage: edit-forensics scan <files or folder...> [options]
       edit-forensics generate <files or folder...> --prompt "..." [--tokens 5] [--top-k 5] [--layer L] [--json]
       edit-forensics reverse <files or folder...> --layer L [--edits <bundle>] [--samples <txt>] [--k 1] [--out repaired.safetensors] [--original <files...>] [--json]
       edit-forensics trace <files or folder...> [--layer L] [--probe probe.json] [--decoder decoder.safetensors] [--original <files...>] [--json]
       edit-forensics edit <files or folder...> --prompt "{} is located in" --subject "..." --target "..." --out <folder> [--layer L] [--no-mom2] [--corpus file.txt] [--v-steps 20] [--v-lr 0.5] [--context-templates 5x10,10x10] [--engine native|wasm|typescript] [--json]

Finds rank-one (ROME) edits in a Hugging Face safetensors checkpoint, layer by layer.

options:
  --original <files...>      the unedited model: adds the exact diff per layer
  --k <n>                    singular values per layer (default ${DEFAULT_SCAN.k})
  --oversampling <n>         randomized SVD oversampling (default ${DEFAULT_SCAN.oversampling})
  --power-iterations <n>     randomized SVD power iterations (default ${DEFAULT_SCAN.powerIterations})
  --backend auto|webgpu|cpu  where the kernels run (default auto: WebGPU if an adapter exists)
  --key-whitening auto|always|never
                             the key-whitened spectrum per layer (default auto: where d_ff <= ${KEY_WHITENING_AUTO_MAX_FF};
                             always: up to d_ff ${KEY_WHITENING_MAX_FF})
  --tensor-pattern <name>    MLP output tensor for an unknown layout, with {i} for the layer
  --rows-axis 0|1            with --tensor-pattern: stored axis of the d_ff rows (0: [d_ff, d_model])
  --json                     print the JSON report instead of the table

generate runs the model (onnxruntime-node's native kernels; onnxruntime-web's wasm where those do not load) on a prompt: next-token top-k and a greedy continuation.
It needs tokenizer.json (and reads tokenizer_config.json) next to the weights.
reverse drops the top-k singular components of layer L's MLP matrix (paper Sec. 7): --edits runs the
reversal experiment over an edit bundle whose edits are relative to these files (10 per relation,
--per-relation); --samples <txt> (one text per line) counts unique predictions over k = 0..15; --out writes
the repaired checkpoint (W~(r, k), or with --original its exact matrix), identical outside that tensor.
trace names what an edit changed (paper Sec. 5-6): the relation (a probe trained in the app or by
\`npm run experiment:trace\`) and the likely new object (training-free readout, and a trained decoder when
--decoder is given). Without --layer it traces the layer the scan flags. --original gives the exact update.
edit makes one ROME edit (kmeng01/rome's algorithm, on the CPU engine) of a GPT-2-family checkpoint with a
tokenizer.json: the new object must be one token. C (the mom2 adjustment) is taken over --corpus (one sentence a
line), else from mom2-stats.safetensors or mom2-corpus.txt beside the model or one folder up (the demo's);
--no-mom2 edits with u = k*. --out (a new folder) gets the checkpoint with the edited tensor replaced, the edit
bundle (edit-bundle/edits.safetensors) and edit.json. Edit the output again for sequential edits. The
products run on native kernels (onnxruntime-node); --engine wasm runs the page's (WebAssembly SIMD), bit for bit.
exit codes: 0 done, 2 bad input or usage (message on stderr), 1 unexpected failure`;

const SPEC = {
  lists: ['original'],
  values: ['k', 'oversampling', 'power-iterations', 'backend', 'tensor-pattern', 'rows-axis', 'prompt', 'tokens', 'top-k', 'layer', 'edits', 'samples', 'out', 'per-relation', 'probe', 'decoder', 'subject', 'target', 'corpus', 'v-steps', 'v-lr', 'context-templates', 'engine', 'key-whitening'],
  switches: ['json', 'help', 'no-mom2'],
} as const;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** `generate`: next-token top-k and a greedy continuation of a prompt, with the checkpoint's own weights. */
async function generate(args: ParsedArgs, io: CliIo, opened: NodeFileSource[]): Promise<number> {
  const prompt = args.values['prompt'];
  if (prompt === undefined || prompt === '') throw new UsageError('generate needs --prompt "..."');
  const tokens = integerOption(args.values, 'tokens', 5, 0, 256);
  const k = integerOption(args.values, 'top-k', 5, 1, 100);
  const layer = integerOption(args.values, 'layer', 0, 0, 10_000);
  const { checkpoint, resolve } = await openCheckpointAt(args.positional, opened);
  const tokenizer = await loadTokenizerBeside(resolve, args.positional.join(' '));
  const model = await openTextModel(await textRuntimeForNode(), checkpoint, tokenizer, layer);
  const completion = await completePrompt(model, prompt, { topK: k, tokens });
  await model.lm.release();
  if (args.switches.has('json')) io.out(`${JSON.stringify({ family: model.family, ...completion }, null, 2)}\n`);
  else {
    io.out(`prompt: ${prompt}\nnext token (top ${k}):\n`);
    for (const t of completion.top) io.out(`  ${t.token.padEnd(20)} ${(100 * t.probability).toFixed(2)}%\n`);
    io.out(`greedy continuation (${tokens} tokens): ${completion.continuation}\n`);
    if (completion.unknownWords.length) io.out(`note: the tokenizer does not know ${completion.unknownWords.map((w) => `"${w}"`).join(', ')}: read as its unknown token\n`);
  }
  return 0;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const opened: NodeFileSource[] = [];
  try {
    const args = parseArgs(argv, SPEC);
    if (args.command === undefined || args.command === 'help' || args.switches.has('help')) {
      io.out(`${USAGE}\n`);
      return args.command === undefined ? 2 : 0;
    }
    if (!['scan', 'generate', 'reverse', 'trace', 'edit'].includes(args.command)) throw new UsageError(`unknown command "${args.command}"\n\n${USAGE}`);
    if (args.positional.length === 0) throw new UsageError(`${args.command} needs the model's files\n\n${USAGE}`);
    if (args.command === 'generate') return await generate(args, io, opened);
    if (args.command === 'reverse') return await reverse(args, io, opened);
    if (args.command === 'trace') return await trace(args, io, opened);
    if (args.command === 'edit') return await edit(args, io, opened);
    let family;
    if (args.values['tensor-pattern'] !== undefined) {
      const axis = integerOption(args.values, 'rows-axis', -1, 0, 1);
      if (axis < 0) throw new UsageError('--tensor-pattern needs --rows-axis 0 (stored [d_ff, d_model]) or 1 (stored [d_model, d_ff])');
      try {
        family = customFamily(args.values['tensor-pattern'], axis as 0 | 1);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
    }
    const k = integerOption(args.values, 'k', DEFAULT_SCAN.k, 1, 256);
    const oversampling = integerOption(args.values, 'oversampling', DEFAULT_SCAN.oversampling, 0, 256);
    const powerIterations = integerOption(args.values, 'power-iterations', DEFAULT_SCAN.powerIterations, 0, 50);

    const keyWhitening = args.values['key-whitening'] ?? 'auto';
    if (keyWhitening !== 'auto' && keyWhitening !== 'always' && keyWhitening !== 'never') throw new UsageError(`--key-whitening must be auto, always or never (got "${keyWhitening}")`);

    const model = (await openCheckpointAt(args.positional, opened)).checkpoint;
    const original = args.lists['original'] ? (await openCheckpointAt(args.lists['original'], opened)).checkpoint : null;
    const backend = await chooseBackend(args.values['backend'], io.err);
    const result = await scanModel(model, { backend, original, family, k, oversampling, powerIterations, keyWhitening });
    if (args.switches.has('json')) {
      io.out(reportToJson(result.report));
      io.err(`edit-forensics: ${scanTimingText(result.timing)}\n`);
    } else io.out(formatScanTable(result));
    return 0;
  } catch (error) {
    if (error instanceof UsageError || error instanceof FormatError) {
      io.err(`edit-forensics: ${error.message}\n`);
      return 2;
    }
    io.err(`edit-forensics: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  } finally {
    await Promise.all(opened.map((s) => s.close().catch(() => undefined)));
  }
}
