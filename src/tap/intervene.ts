/**
 * Graph rewrite for interventions: at one hidden state x = hidden_states[L] insert `y = x * mask + fill`
 * and make every consumer of x read y, so the forward pass continues from the edited residual stream.
 * mask and fill are graph inputs [1, tokens, dims], so one session serves every mode (zero, mean, control)
 * and the identity (mask 1, fill 0) reproduces the unmodified model exactly. The unedited x is exposed as an
 * extra output, which gives the dataset means of the cells from the same forward pass.
 */
import { badModel } from '../errors.js';
import { layerHook, type HookName } from '../hooks.js';
import { findHooks, type HookTable } from './plan.js';
import { DataType, GraphBuilder, decodeModel, encodeModel } from './onnx.js';

export const MASK_INPUT = 'massivit/intervene/mask';
export const FILL_INPUT = 'massivit/intervene/fill';
/** The hidden state at the intervention layer, before the edit. */
export const HIDDEN_OUTPUT = 'massivit/intervene/hidden';

export interface InterventionGraph {
  bytes: Uint8Array;
  hooks: HookTable;
  hook: HookName;
  /** The model's own outputs (logits, last_hidden_state, pooler_output ...), then HIDDEN_OUTPUT. */
  outputs: string[];
}

/** Rewrites the model so hidden_states[layer] is edited by the MASK_INPUT / FILL_INPUT inputs ([1, tokens, dims]). */
export function applyIntervention(modelBytes: Uint8Array, layer: number, tokens: number, dims: number): InterventionGraph {
  const model = decodeModel(modelBytes);
  const hooks = findHooks(model);
  if (!Number.isInteger(layer) || layer < 0 || layer > hooks.numBlocks) {
    throw badModel(`Cannot intervene at layer ${layer}: the model has hidden states 0 … ${hooks.numBlocks}`);
  }
  const hook = layerHook(layer);
  const x = hooks.tensors.get(hook);
  if (!x) throw badModel(`Hook ${hook} is not available in this graph`);
  const graph = model.graph!;
  const original = (graph.output ?? []).map((o) => o.name ?? '');
  // Consumers are collected before the new nodes exist, so the edit itself still reads the original x.
  const consumers = (graph.node ?? []).filter((n) => (n.input ?? []).includes(x));
  const b = new GraphBuilder(graph);
  const shape = { dim: [{ dimValue: 1 }, { dimValue: tokens }, { dimValue: dims }] };
  for (const name of [MASK_INPUT, FILL_INPUT]) (graph.input ??= []).push({ name, type: { tensorType: { elemType: DataType.FLOAT, shape } } });
  const before = graph.node!.length;
  const y = b.one('Add', [b.one('Mul', [x, MASK_INPUT]), FILL_INPUT]);
  // Keep the node list topologically sorted (ONNX requires it): the edit goes right after x's producer.
  const edit = graph.node!.splice(before);
  const at = graph.node!.findIndex((n) => (n.output ?? []).includes(x)) + 1;
  graph.node!.splice(at, 0, ...edit);
  for (const node of consumers) node.input = (node.input ?? []).map((i) => (i === x ? y : i));
  // A graph output that is x itself (no export here does this) keeps reporting the unedited value.
  b.output(x, HIDDEN_OUTPUT);
  return { bytes: encodeModel(model), hooks, hook, outputs: [...original, HIDDEN_OUTPUT] };
}

