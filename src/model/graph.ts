/** A read-only index over an ONNX graph: who produces and who consumes each tensor. */
import type { GraphProto, NodeProto } from './onnx.js';

export interface GraphIndex {
  nodes: NodeProto[];
  producer: Map<string, NodeProto>;
  consumers: Map<string, NodeProto[]>;
  initializers: Set<string>;
}

export function indexGraph(graph: GraphProto): GraphIndex {
  const nodes = graph.node ?? [];
  const producer = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  for (const node of nodes) {
    for (const out of node.output ?? []) producer.set(out, node);
    for (const input of node.input ?? []) {
      if (!input) continue;
      const list = consumers.get(input);
      if (list) list.push(node);
      else consumers.set(input, [node]);
    }
  }
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  return { nodes, producer, consumers, initializers };
}

/** True when `target` is reachable from `source` following data edges forward, within `limit` nodes. */
export function dependsOn(index: GraphIndex, tensor: string, source: string, limit = 5000): boolean {
  const seen = new Set<string>();
  const stack = [tensor];
  while (stack.length > 0 && seen.size < limit) {
    const t = stack.pop()!;
    if (t === source) return true;
    if (seen.has(t)) continue;
    seen.add(t);
    const node = index.producer.get(t);
    if (node) for (const input of node.input ?? []) if (input) stack.push(input);
  }
  return false;
}

/** Tensors reachable forward from `from` (inclusive). */
function descendants(index: GraphIndex, from: string): Set<string> {
  const seen = new Set<string>([from]);
  const stack = [from];
  while (stack.length > 0) {
    const t = stack.pop()!;
    for (const node of index.consumers.get(t) ?? []) {
      for (const out of node.output ?? []) {
        if (out && !seen.has(out)) {
          seen.add(out);
          stack.push(out);
        }
      }
    }
  }
  return seen;
}

/** Nodes on some path from tensor `from` to tensor `to`. */
export function nodesBetween(index: GraphIndex, from: string, to: string): NodeProto[] {
  const forward = descendants(index, from);
  const result = new Set<NodeProto>();
  const seen = new Set<string>();
  const stack = [to];
  while (stack.length > 0) {
    const t = stack.pop()!;
    if (t === from || seen.has(t) || !forward.has(t)) continue;
    seen.add(t);
    const node = index.producer.get(t);
    if (!node) continue;
    result.add(node);
    for (const input of node.input ?? []) if (input) stack.push(input);
  }
  return [...result];
}
