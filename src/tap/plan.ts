/**
 * The tap: find the hooks in a graph (a name → tensor table, as TransformerLens keeps per model) and
 * rewrite the graph once per plan, so the requested hooks, or their in-graph statistics, become session
 * outputs and the plan's edits (tap/edits.ts) change the forward pass.
 */
import { badModel } from '../contracts/errors.js';
import { attnPattern, layerHook, type HookName } from '../contracts/hooks.js';
import { GraphBuilder, decodeModel, encodeModel, type ModelProto } from '../model/onnx.js';
import { applyEdits, type Edit, type EditInputs } from './edits.js';
import { addLayerStats, addPatternStats, type Criteria } from './reduce.js';
import { findHooks, type HookTable } from '../model/hook-table.js';
import { spliceGraph, type GraphAdditions } from './splice.js';

/** In-graph reductions (tap/reduce.ts): only small summaries leave the session. */
export interface Reduce {
  /**
   * hidden_states indices whose statistics are computed in-graph. `scan` does not use this: the in-graph
   * exact median costs ~5 ms per image on ViT-Ti (BENCHMARKS.md), so it exposes the layers whole and a
   * WebAssembly kernel reduces them with the same topK and criteria. Kept for light probes and as the
   * kernel's cross-check.
   */
  layers: number[];
  /** Per-block attention summaries of every tappable pattern (fused attention has none). */
  attention: boolean;
  /** Attention heads, needed to reshape CLIP's [batch·heads, q, k] patterns; required when attention is on. */
  numHeads?: number;
  topK: number;
  criteria: Criteria;
}

/**
 * What one rewrite does to a model: expose hooks whole, reduce them in-graph, edit the forward pass.
 * An exposed or reduced hook shows the value as computed, before an edit at that same hook; every hook
 * after an edit sees its effect.
 */
export interface TapPlan {
  /** Hooks exposed whole: every layer for `scan`, one for single-image views, all for reference checks. */
  expose: HookName[];
  reduce?: Reduce;
  edits?: Edit[];
  /** Keep the model's own outputs (logits, pooled output). */
  keepOutputs?: boolean;
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
  /** The graph inputs each edit reads (same order as `plan.edits`), fed per run beside the pixels. */
  inputs: EditInputs[];
}

/**
 * The one graph rewrite: returns the rewritten model bytes, the added outputs, the session outputs that
 * hold them and the inputs the edits read. A plan that only appends (exposes, reductions) is spliced into
 * the original bytes (tap/splice.ts); edits rewire existing nodes, so those models are encoded in full.
 */
export function applyTap(modelBytes: Uint8Array, plan: TapPlan): TappedGraph {
  const model = decodeModel(modelBytes);
  const { additions, ...tapped } = tapModel(model, plan);
  return { bytes: (additions && spliceGraph(modelBytes, additions)) ?? encodeModel(model), ...tapped };
}

/**
 * The rewrite of a decoded model (in place): applyTap without the encoding. `additions` is what it
 * appended, absent when an edit changed existing nodes (the splice cannot express that).
 */
export function tapModel(model: ModelProto, plan: TapPlan): Omit<TappedGraph, 'bytes'> & { additions?: GraphAdditions } {
  const hooks = findHooks(model);
  const graph = model.graph!;
  const original = (graph.output ?? []).map((o) => o.name ?? '');
  const counts = { nodes: (graph.node ?? []).length, initializers: (graph.initializer ?? []).length };
  const keep = plan.keepOutputs ?? false;
  if (!keep) graph.output = [];
  const b = new GraphBuilder(graph);
  // Edits first: what the plan adds afterwards reads the hooks as computed (see TapPlan).
  const inputs = applyEdits(b, hooks, plan.edits ?? []);
  const ctx = { b, opset: hooks.opset };
  const reduce = plan.reduce;
  for (const layer of reduce?.layers ?? []) {
    const hook = layerHook(layer);
    addLayerStats(ctx, requireHook(hooks, hook), hook, reduce!.topK, reduce!.criteria);
  }
  const wholeHooks = new Map<string, string>();
  for (const hook of plan.expose) {
    const tensor = requireHook(hooks, hook);
    wholeHooks.set(hook, tensor);
    if (!(graph.output ?? []).some((o) => o.name === tensor)) b.output(tensor, tensor);
  }
  if (reduce?.attention) {
    if (!reduce.numHeads) throw badModel('Reduce.numHeads is required to tap attention');
    for (let i = 0; i < hooks.numBlocks; i++) {
      const hook = attnPattern(i);
      if (hooks.tensors.has(hook)) addPatternStats(ctx, requireHook(hooks, hook), hook, reduce.numHeads);
    }
  }
  const whole = new Set(wholeHooks.values());
  // The model's own outputs (kept) and the in-graph statistics; a kept output may also be a whole hook (CLIP's last_hidden_state).
  const derived = (graph.output ?? []).map((o) => o.name ?? '').filter((n) => (original.includes(n) ? keep : !whole.has(n)));
  const outputs = [...wholeHooks.keys(), ...derived];
  const fetch = [...wholeHooks.values(), ...derived];
  const additions = inputs.length > 0 ? undefined : { nodes: (graph.node ?? []).slice(counts.nodes), initializers: (graph.initializer ?? []).slice(counts.initializers), outputs: graph.output ?? [] };
  return { additions, hooks, outputs, fetch, inputs };
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
