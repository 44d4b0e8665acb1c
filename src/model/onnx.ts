/**
 * Thin helpers over the ONNX protobuf (onnx-proto): decode, encode, and build the few node kinds the
 * tap adds. Every added name is prefixed `massivit/` so it cannot collide with exporter names.
 */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.ModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

export const DataType = onnx.TensorProto.DataType;

export function decodeModel(bytes: Uint8Array): ModelProto {
  return onnx.ModelProto.decode(bytes);
}

export function encodeModel(model: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** The default-domain opset the model imports (0 when absent). */
export function opsetVersion(model: ModelProto): number {
  const entry = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry ? Number(entry.version) : 0;
}

type AttrValue = number | number[] | string;

function attribute(name: string, value: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  return Number.isInteger(value) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
}

/** Appends nodes to a graph with unique `massivit/...` names. */
export class GraphBuilder {
  private counter = 0;
  constructor(readonly graph: GraphProto) {}

  fresh(hint: string): string {
    this.counter += 1;
    return `massivit/${hint}/${this.counter}`;
  }

  /** Adds one node; returns its output names (fresh unless given). */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs: string[] | number = 1): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(opType)) : outputs;
    const node: NodeProto = {
      opType,
      name: this.fresh(`${opType}_node`),
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    };
    (this.graph.node ??= []).push(node);
    return outs;
  }

  one(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}): string {
    return this.node(opType, inputs, attrs)[0];
  }

  /** A constant tensor as an initializer (int64 or float32). */
  constant(values: number[] | Float32Array, dims: number[], type: 'int64' | 'float32'): string {
    const name = this.fresh('const');
    let raw: Uint8Array;
    if (type === 'int64') {
      const arr = new BigInt64Array(values.length);
      for (let i = 0; i < values.length; i++) arr[i] = BigInt(values[i]);
      raw = new Uint8Array(arr.buffer);
    } else {
      const arr = values instanceof Float32Array ? values : Float32Array.from(values);
      raw = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
    }
    const tensor: TensorProto = {
      name,
      dims,
      dataType: type === 'int64' ? DataType.INT64 : DataType.FLOAT,
      rawData: raw,
    };
    (this.graph.initializer ??= []).push(tensor);
    return name;
  }

  scalar(value: number): string {
    return this.constant([value], [], 'float32');
  }

  /** Exposes a tensor as a graph output; ORT needs at least the element type. */
  output(tensor: string, outputName: string, elemType: number = DataType.FLOAT): void {
    if (tensor !== outputName) this.node('Identity', [tensor], {}, [outputName]);
    (this.graph.output ??= []).push({ name: outputName, type: { tensorType: { elemType } } });
  }
}
