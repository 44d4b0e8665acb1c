/**
 * The attention head count a graph was exported with, read from its first attention: the Reshape that
 * splits the query into [batch, tokens, heads, head size] before the score MatMul. Exporters build that
 * shape from Shape/Gather values and constants; the head count is a constant of it. Undefined when the
 * graph does not show it that way (fused attention, an unusual export): then nothing is checked.
 */
import { badModel } from '../contracts/errors.js';
import type { GraphIndex } from './graph.js';
import { DataType, type GraphProto, type NodeProto, type TensorProto } from './onnx.js';

/** int64 values of a tensor proto. */
function int64s(t: TensorProto): number[] | undefined {
  if (t.dataType !== DataType.INT64) return undefined;
  if (t.int64Data && t.int64Data.length > 0) return t.int64Data.map((v) => Number(v));
  const raw = t.rawData;
  if (!raw || raw.length % 8 !== 0) return undefined;
  const copy = Uint8Array.from(raw);
  return Array.from(new BigInt64Array(copy.buffer), Number);
}

/** A tensor's constant int64 values, through Constant nodes, initializers, Unsqueeze and Concat; else undefined per element. */
function constantInts(index: GraphIndex, graph: GraphProto, name: string, depth = 0): (number | undefined)[] | undefined {
  if (depth > 8) return undefined;
  const init = (graph.initializer ?? []).find((t) => t.name === name);
  if (init) return int64s(init);
  const node = index.producer.get(name);
  if (!node) return undefined;
  if (node.opType === 'Constant') {
    const value = (node.attribute ?? []).find((a) => a.name === 'value')?.t;
    return value ? int64s(value) : undefined;
  }
  if (node.opType === 'Unsqueeze') {
    const inner = constantInts(index, graph, node.input![0], depth + 1);
    return inner ?? [undefined];
  }
  if (node.opType === 'Concat') {
    const parts = (node.input ?? []).map((i) => constantInts(index, graph, i, depth + 1) ?? [undefined]);
    return parts.flat();
  }
  return undefined;
}

/** Walks back from the first attention Softmax to the query's 4-D split and reads its head count. */
export function graphHeads(index: GraphIndex, graph: GraphProto, softmax: string): number | undefined {
  const seen = new Set<NodeProto>();
  const queue = [index.producer.get(softmax)].filter((n): n is NodeProto => n !== undefined);
  while (queue.length > 0 && seen.size < 40) {
    const node = queue.shift()!;
    if (seen.has(node)) continue;
    seen.add(node);
    if (node.opType === 'Reshape') {
      const shape = constantInts(index, graph, node.input![1]);
      if (shape?.length === 4 && shape[2] !== undefined && shape[2] > 0) return shape[2];
    }
    for (const input of node.input ?? []) {
      const p = index.producer.get(input);
      if (p && p.opType !== 'Constant') queue.push(p);
    }
  }
  return undefined;
}

/** Refuses a config whose num_attention_heads disagrees with the graph (when the graph shows its heads). */
export function checkHeads(configHeads: number, graphCount: number | undefined): void {
  if (graphCount !== undefined && configHeads > 0 && graphCount !== configHeads) {
    throw badModel(`config.json says num_attention_heads ${configHeads} but the graph's attention splits into ${graphCount} heads`);
  }
}
