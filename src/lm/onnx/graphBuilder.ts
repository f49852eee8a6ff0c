import { float32ArrayToBfloat16Bits, float32ArrayToFloat16Bits } from '../../formats/dtypes';
import { type AttributeValue, type OnnxInitializer, type OnnxModel, type OnnxNode, OnnxType, type OnnxValueInfo } from './onnxModel';
import { MemoryWeightSink, type WeightSink } from './weightSink';

/** Float32 weights for a graph: read on demand, so a builder never holds more than it places. */
export type WeightSource = (name: string) => Float32Array;

/** The 16-bit types a weight can be kept in (its values exactly those of the stored checkpoint). */
export type HalfType = 'F16' | 'BF16';

/**
 * Which weights keep a 16-bit type in the graph (the session casts them to float32 when it runs), by the
 * checkpoint's tensor name; null keeps float32.
 */
export type WeightPrecision = (name: string) => HalfType | null;

const HALF_ONNX_TYPE: Readonly<Record<HalfType, number>> = { F16: OnnxType.FLOAT16, BF16: OnnxType.BFLOAT16 };

/**
 * Builds an ONNX graph node by node. Weights go to external data through a sink (memory for ORT web's
 * `externalData`, a file for the native runtime), so the protobuf itself stays small whatever the model's
 * size and the builder never holds more than the weight it is placing; small constants stay inline.
 * A weight kept in 16 bits (see WeightPrecision) is cast to float32 where the graph uses it; a table only
 * gathered from (`gatherRows`) is gathered in 16 bits and only the rows are cast.
 */
export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  readonly inputs: OnnxValueInfo[] = [];
  readonly outputs: OnnxValueInfo[] = [];
  private counter = 0;
  /** float32 name -> the 16-bit initializer it is cast from. */
  private readonly halves = new Map<string, string>();

  constructor(
    readonly sink: WeightSink = new MemoryWeightSink(),
    private readonly precision: WeightPrecision = () => null,
  ) {}

  fresh(hint: string): string {
    return `${hint}_${this.counter++}`;
  }

  input(name: string, elemType: number, shape: readonly (number | string)[]): string {
    this.inputs.push({ name, elemType, shape });
    return name;
  }

  output(name: string, elemType: number, shape: readonly (number | string)[]): void {
    this.outputs.push({ name, elemType, shape });
  }

  /** True when some weight is kept in 16 bits (the session must not fold its casts back into float32). */
  get castsWeights(): boolean {
    return this.halves.size > 0;
  }

  /** A weight stored in external data: float32, or 16 bits where `precision` says so and the values fit. */
  weight(name: string, dims: readonly number[], data: Float32Array): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) throw new Error(`weight ${name}: ${data.length} values for shape [${dims.join(', ')}]`);
    const half = this.precision(name);
    const bits = half ? halfBits(half, data) : null;
    if (half && bits) {
      const stored = `${name}::${half}`;
      this.external(stored, HALF_ONNX_TYPE[half], dims, new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength));
      this.halves.set(name, stored);
      return name;
    }
    this.external(name, OnnxType.FLOAT, dims, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return name;
  }

  /** Rows `ids` of an embedding table (float32): a 16-bit table is gathered first and only the rows cast. */
  gatherRows(table: string, ids: string): string {
    const half = this.halves.get(table);
    if (!half) return this.op('Gather', [table, ids], { axis: 0 });
    return this.op('Cast', [this.op('Gather', [half, ids], { axis: 0 })], { to: OnnxType.FLOAT });
  }

  private external(name: string, dataType: number, dims: readonly number[], bytes: Uint8Array): void {
    const { location, offset } = this.sink.place(bytes);
    this.initializers.push({ name, dataType, dims, external: { location, offset, length: bytes.length } });
  }

  constInt64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const name = this.fresh('const_i64');
    const raw = new Uint8Array(new BigInt64Array(values.map((v) => BigInt(v))).buffer);
    this.initializers.push({ name, dataType: OnnxType.INT64, dims, raw });
    return name;
  }

  constFloat(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const name = this.fresh('const_f32');
    this.initializers.push({ name, dataType: OnnxType.FLOAT, dims, raw: new Uint8Array(Float32Array.from(values).buffer) });
    return name;
  }

  /** Adds a node and returns its (first) output's name. */
  op(op: string, inputs: readonly string[], attributes?: Record<string, AttributeValue>, options: { domain?: string; outputs?: number; name?: string } = {}): string {
    const outputs = Array.from({ length: options.outputs ?? 1 }, () => options.name ?? this.fresh(op.toLowerCase()));
    if ((options.outputs ?? 1) > 1) outputs.forEach((_, i) => (outputs[i] = `${outputs[i]}_${i}`));
    this.nodes.push({ op, inputs, outputs, attributes, domain: options.domain });
    return outputs[0] as string;
  }

  /** Like `op`, for nodes with several outputs. */
  opMulti(op: string, inputs: readonly string[], count: number, attributes?: Record<string, AttributeValue>): string[] {
    const base = this.fresh(op.toLowerCase());
    const outputs = Array.from({ length: count }, (_, i) => `${base}_${i}`);
    this.nodes.push({ op, inputs, outputs, attributes });
    return outputs;
  }

  /** Renames the value `from` to `to` (an Identity), e.g. for graph outputs. */
  alias(from: string, to: string): string {
    this.nodes.push({ op: 'Identity', inputs: [from], outputs: [to] });
    return to;
  }

  /** The graph (a cast first for each 16-bit weight used as float32); its weights are in `sink`. */
  model(name: string, opsets: OnnxModel['opsets']): { model: OnnxModel; weights: WeightSink } {
    const used = new Set(this.nodes.flatMap((n) => n.inputs));
    const casts: OnnxNode[] = [...this.halves]
      .filter(([float]) => used.has(float))
      .map(([float, half]) => ({ op: 'Cast', inputs: [half], outputs: [float], name: `cast_${float}`, attributes: { to: OnnxType.FLOAT } }));
    return {
      model: { graph: { name, nodes: [...casts, ...this.nodes], initializers: this.initializers, inputs: this.inputs, outputs: this.outputs }, opsets },
      weights: this.sink,
    };
  }
}

/** The 16-bit bits of `data`, or null when a float16 would overflow (such a weight stays float32). */
function halfBits(half: HalfType, data: Float32Array): Uint16Array | null {
  if (half === 'BF16') return float32ArrayToBfloat16Bits(data);
  const bits = float32ArrayToFloat16Bits(data);
  for (let i = 0; i < bits.length; i++) {
    // An infinity where the value was finite: out of float16's range.
    if (((bits[i] as number) & 0x7fff) === 0x7c00 && Number.isFinite(data[i] as number)) return null;
  }
  return bits;
}
