import { ProtoWriter } from './protobuf';

/** ONNX TensorProto.DataType values used here. */
export const OnnxType = { FLOAT: 1, INT32: 6, INT64: 7, FLOAT16: 10, BFLOAT16: 16 } as const;

export type AttributeValue = number | string | readonly number[] | { float: number } | { floats: readonly number[] };

export interface OnnxNode {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

/** An initializer: bytes inline, or a reference into an external data file (ORT web: `externalData`). */
export interface OnnxInitializer {
  name: string;
  dataType: number;
  dims: readonly number[];
  raw?: Uint8Array;
  external?: { location: string; offset: number; length: number };
}

/** A graph input or output; a string dimension is symbolic (batch, sequence). */
export interface OnnxValueInfo {
  name: string;
  elemType: number;
  shape: readonly (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxInitializer[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
}

export interface OnnxModel {
  graph: OnnxGraph;
  /** e.g. [{ domain: '', version: 17 }, { domain: 'com.microsoft', version: 1 }] */
  opsets: readonly { domain: string; version: number }[];
  irVersion?: number;
  producer?: string;
}

function attribute(name: string, value: AttributeValue): ProtoWriter {
  // AttributeProto: name 1, f 2, i 3, s 4, floats 7, ints 8, type 20 (FLOAT 1, INT 2, STRING 3, FLOATS 6, INTS 7).
  const w = new ProtoWriter().string(1, name);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: use { float } for a non-integer value`);
    return w.varint(3, value).varint(20, 2);
  }
  if (typeof value === 'string') return w.string(4, value).varint(20, 3);
  if ('float' in value) return w.float(2, value.float).varint(20, 1);
  if ('floats' in value) return w.packedFloats(7, value.floats).varint(20, 6);
  return w.packedVarints(8, value as readonly number[]).varint(20, 7);
}

function node(n: OnnxNode, index: number): ProtoWriter {
  // NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7.
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name ?? `${n.op}_${index}`).string(4, n.op);
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.message(5, attribute(k, v));
  if (n.domain) w.string(7, n.domain);
  return w;
}

function initializer(t: OnnxInitializer): ProtoWriter {
  // TensorProto: dims 1, data_type 2, name 8, raw_data 9, external_data 13 (key 1 / value 2), data_location 14.
  const w = new ProtoWriter().packedVarints(1, t.dims).varint(2, t.dataType).string(8, t.name);
  if (t.raw) return w.bytes(9, t.raw);
  if (!t.external) throw new Error(`initializer ${t.name} has neither bytes nor an external location`);
  const entry = (key: string, value: string) => new ProtoWriter().string(1, key).string(2, value);
  w.message(13, entry('location', t.external.location));
  w.message(13, entry('offset', String(t.external.offset)));
  w.message(13, entry('length', String(t.external.length)));
  return w.varint(14, 1);
}

function valueInfo(v: OnnxValueInfo): ProtoWriter {
  // ValueInfoProto: name 1, type 2; TypeProto.tensor_type 1; Tensor: elem_type 1, shape 2; Dimension: value 1, param 2.
  const shape = new ProtoWriter();
  for (const d of v.shape) shape.message(1, typeof d === 'number' ? new ProtoWriter().varint(1, d) : new ProtoWriter().string(2, d));
  const tensor = new ProtoWriter().varint(1, v.elemType).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensor));
}

/** Serialises a ModelProto (the bytes ORT's InferenceSession.create accepts). */
export function encodeModel(model: OnnxModel): Uint8Array {
  // GraphProto: node 1, name 2, initializer 5, input 11, output 12.
  const g = new ProtoWriter();
  model.graph.nodes.forEach((n, i) => g.message(1, node(n, i)));
  g.string(2, model.graph.name);
  for (const t of model.graph.initializers) g.message(5, initializer(t));
  for (const v of model.graph.inputs) g.message(11, valueInfo(v));
  for (const v of model.graph.outputs) g.message(12, valueInfo(v));
  // ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8 (domain 1, version 2).
  const m = new ProtoWriter().varint(1, model.irVersion ?? 8).string(2, model.producer ?? 'edit-forensics');
  m.message(7, g);
  for (const o of model.opsets) m.message(8, new ProtoWriter().string(1, o.domain).varint(2, o.version));
  return m.finish();
}
