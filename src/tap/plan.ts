/**
 * The tap: find the hooks in a graph (a name → tensor table, as TransformerLens keeps per model) and
 * rewrite the graph so the requested hooks, or their in-graph statistics, become session outputs.
 */
import { badModel } from '../errors.js';
import { attnPattern, layerHook, residMid, residPost, residPre, type HookName } from '../hooks.js';
import { indexGraph } from './graph.js';
import { GraphBuilder, decodeModel, encodeModel, opsetVersion, type ModelProto } from './onnx.js';
import { addLayerStats, addPatternStats, type Criteria } from './reduce.js';
import { findResidualChain } from './residual.js';
import { spliceGraph, type GraphAdditions } from './splice.js';

export interface HookTable {
  numBlocks: number;
  /** Hook name → ONNX tensor name. Patterns are absent when attention is fused (no Softmax to tap). */
  tensors: Map<HookName, string>;
  /** Hooks that cannot exist in this graph, with the reason. */
  missing: Map<HookName, string>;
  layerNormKind: string;
  opset: number;
}

export interface TapPlan {
  /**
   * hidden_states indices whose statistics are computed in-graph (tap/reduce.ts). `scan` does not use this:
   * the in-graph exact median costs ~5 ms per image on ViT-Ti (BENCHMARKS.md), so it exposes the layers
   * whole and a WebAssembly kernel reduces them. Kept for light probes and as the kernel's cross-check.
   */
  statsLayers: number[];
  /** Hooks exposed whole: every layer for `scan`, one for single-image views, all for reference checks. */
  full: HookName[];
  /** Per-block attention summaries. */
  attention: boolean;
  topK: number;
  criteria: Criteria;
  /** Keep the model's own outputs (logits, pooled output). */
  keepOutputs: boolean;
  /** Attention heads, needed to reshape CLIP's [batch·heads, q, k] patterns; required when attention is on. */
  numHeads?: number;
}

export function findHooks(model: ModelProto): HookTable {
  const graph = model.graph;
  if (!graph) throw badModel('The ONNX file has no graph');
  const chain = findResidualChain(indexGraph(graph));
  const tensors = new Map<HookName, string>();
  const missing = new Map<HookName, string>();
  chain.blocks.forEach((block, i) => {
    tensors.set(residPre(i), block.pre);
    tensors.set(residMid(i), block.mid);
    tensors.set(residPost(i), block.post);
    if (block.softmax.length === 1) tensors.set(attnPattern(i), block.softmax[0]);
    else missing.set(attnPattern(i), block.softmax.length === 0 ? 'attention is fused: no Softmax to tap' : `${block.softmax.length} Softmax nodes in the attention branch`);
  });
  return { numBlocks: chain.blocks.length, tensors, missing, layerNormKind: chain.layerNormKind, opset: opsetVersion(model) };
}

function requireHook(hooks: HookTable, name: HookName): string {
  const tensor = hooks.tensors.get(name);
  if (!tensor) throw badModel(`Hook ${name} is not available in this graph: ${hooks.missing.get(name) ?? 'no such block'}`);
  return tensor;
}

export interface TappedGraph {
  bytes: Uint8Array;
  hooks: HookTable;
  /** The outputs a run returns, by hook-based name (`blocks.3.hook_resid_post`, `….median`, …). */
  outputs: string[];
  /**
   * The session output to fetch for each of `outputs`. A whole hook is exposed under its own tensor name:
   * renaming it through an Identity node would copy every hidden state once more per run (measured ~3-4%
   * of a ViT-Ti forward pass with 13 layers exposed, BENCHMARKS.md).
   */
  fetch: string[];
}

/** Returns the rewritten model bytes, the added outputs, and the session outputs that hold them. */
export function applyTap(modelBytes: Uint8Array, plan: TapPlan): TappedGraph {
  const model = decodeModel(modelBytes);
  const { additions, ...tapped } = tapModel(model, plan);
  return { bytes: spliceGraph(modelBytes, additions) ?? encodeModel(model), ...tapped };
}

/** The tap's edit of a decoded model (in place), and what it appended: applyTap without the encoding. */
export function tapModel(model: ModelProto, plan: TapPlan): Omit<TappedGraph, 'bytes'> & { additions: GraphAdditions } {
  const hooks = findHooks(model);
  const graph = model.graph!;
  const original = (graph.output ?? []).map((o) => o.name ?? '');
  const counts = { nodes: (graph.node ?? []).length, initializers: (graph.initializer ?? []).length };
  if (!plan.keepOutputs) graph.output = [];
  const b = new GraphBuilder(graph);
  const ctx = { b, opset: hooks.opset };
  for (const layer of plan.statsLayers) {
    const hook = layerHook(layer);
    addLayerStats(ctx, requireHook(hooks, hook), hook, plan.topK, plan.criteria);
  }
  const wholeHooks = new Map<string, string>();
  for (const hook of plan.full) {
    const tensor = requireHook(hooks, hook);
    wholeHooks.set(hook, tensor);
    if (!(graph.output ?? []).some((o) => o.name === tensor)) b.output(tensor, tensor);
  }
  if (plan.attention) {
    for (let i = 0; i < hooks.numBlocks; i++) {
      const hook = attnPattern(i);
      if (!plan.numHeads) throw badModel('TapPlan.numHeads is required to tap attention');
      if (hooks.tensors.has(hook)) addPatternStats(ctx, requireHook(hooks, hook), hook, plan.numHeads);
    }
  }
  const whole = new Set(wholeHooks.values());
  // The model's own outputs (kept) and the in-graph statistics; a kept output may also be a whole hook (CLIP's last_hidden_state).
  const derived = (graph.output ?? []).map((o) => o.name ?? '').filter((n) => (original.includes(n) ? plan.keepOutputs : !whole.has(n)));
  const outputs = [...wholeHooks.keys(), ...derived];
  const fetch = [...wholeHooks.values(), ...derived];
  const additions = { nodes: (graph.node ?? []).slice(counts.nodes), initializers: (graph.initializer ?? []).slice(counts.initializers), outputs: graph.output ?? [] };
  return { additions, hooks, outputs, fetch };
}

/** The names to ask the session for: `fetch` without repeats (two hooks may name one tensor, resid_post i = resid_pre i + 1). */
export function sessionFetches(tapped: Pick<TappedGraph, 'fetch'>): string[] {
  return [...new Set(tapped.fetch)];
}

/** A session's results (keyed by `fetch`) under the tap's output names. */
export function byOutputName<T>(tapped: Pick<TappedGraph, 'outputs' | 'fetch'>, results: Record<string, T>): Record<string, T> {
  const named: Record<string, T> = {};
  tapped.outputs.forEach((name, i) => (named[name] = results[tapped.fetch[i]]));
  return named;
}
