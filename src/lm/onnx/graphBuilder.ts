import { type AttributeValue, type OnnxInitializer, type OnnxModel, type OnnxNode, OnnxType, type OnnxValueInfo } from './onnxModel';
import { MemoryWeightSink, type WeightSink } from './weightSink';

/** Float32 weights for a graph: read on demand, so a builder never holds more than it places. */
export type WeightSource = (name: string) => Float32Array;

/**
 * Builds an ONNX graph node by node. Weights go to one external-data blob through a sink (memory for ORT web's
 * `externalData`, a file for the native runtime), so the protobuf itself stays small whatever the model's
 * size and the builder never holds more than the weight it is placing; small constants stay inline.
 */
export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  readonly inputs: OnnxValueInfo[] = [];
  readonly outputs: OnnxValueInfo[] = [];
  private counter = 0;

  constructor(
    readonly externalName = 'weights.bin',
    readonly sink: WeightSink = new MemoryWeightSink(),
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

  /** A float32 weight stored in the external blob (offsets aligned as the sink asks). */
  weight(name: string, dims: readonly number[], data: Float32Array): string {
    const expected = dims.reduce((a, b) => a * b, 1);
    if (data.length !== expected) throw new Error(`weight ${name}: ${data.length} values for shape [${dims.join(', ')}]`);
    const pad = (this.sink.alignment - (this.sink.bytesWritten % this.sink.alignment)) % this.sink.alignment;
    if (pad) this.sink.write(new Uint8Array(pad));
    const offset = this.sink.bytesWritten;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.sink.write(bytes);
    this.initializers.push({ name, dataType: OnnxType.FLOAT, dims, external: { location: this.externalName, offset, length: bytes.length } });
    return name;
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

  /** The graph; its weights are in `sink`. */
  model(name: string, opsets: OnnxModel['opsets']): { model: OnnxModel; weights: WeightSink } {
    return {
      model: { graph: { name, nodes: this.nodes, initializers: this.initializers, inputs: this.inputs, outputs: this.outputs }, opsets },
      weights: this.sink,
    };
  }
}
