/**
 * The hook table of a graph: which ONNX tensor is each TransformerLens hook (a name → tensor table, as
 * TransformerLens keeps per model), found structurally from the residual chain. Part of reading a model;
 * tap/ rewrites graphs with it.
 */
import { badModel } from '../contracts/errors.js';
import { attnPattern, mlpPost, residMid, residPost, residPre, type HookName } from '../contracts/hooks.js';
import { indexGraph } from './graph.js';
import { opsetVersion, type ModelProto } from './onnx.js';
import { findResidualChain } from './residual.js';

export interface HookTable {
  numBlocks: number;
  /** Hook name → ONNX tensor name. Patterns are absent when attention is fused (no Softmax to tap). */
  tensors: Map<HookName, string>;
  /** Hooks that cannot exist in this graph, with the reason. */
  missing: Map<HookName, string>;
  layerNormKind: string;
  opset: number;
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
    if (block.mlpHidden) tensors.set(mlpPost(i), block.mlpHidden);
    else missing.set(mlpPost(i), 'no single down-projection (MatMul with a weight) found in the MLP branch');
  });
  return { numBlocks: chain.blocks.length, tensors, missing, layerNormKind: chain.layerNormKind, opset: opsetVersion(model) };
}
