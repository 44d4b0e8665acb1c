/** What every edit kind does to the node list: claim the tensor it edits, splice its nodes in after it. */
import type { GraphProto } from '../model/onnx.js';

/** Marks x as edited by this plan: two edits of one tensor would chain in an order nobody asked for. */
export function claim(edited: Set<string>, x: string, what: string): void {
  if (edited.has(x)) throw new Error(`two ${what} in one plan`);
  edited.add(x);
}

/**
 * Rewires every consumer of x to the output of the nodes `build` adds, spliced right after x's producer.
 * Consumers are collected before the new nodes exist, so the edit itself still reads the original x; a
 * graph output that is x itself keeps reporting the unedited value (outputs are not node inputs).
 */
export function spliceAfter(graph: GraphProto, x: string, build: () => string): void {
  const consumers = (graph.node ?? []).filter((n) => (n.input ?? []).includes(x));
  const before = graph.node!.length;
  const y = build();
  // ONNX needs a topologically sorted node list: the new nodes go right after x's producer (or first,
  // for a graph input), and read only x, graph inputs and initializers.
  const added = graph.node!.splice(before);
  const at = graph.node!.findIndex((n) => (n.output ?? []).includes(x)) + 1;
  graph.node!.splice(at, 0, ...added);
  for (const node of consumers) node.input = (node.input ?? []).map((t) => (t === x ? y : t));
}
