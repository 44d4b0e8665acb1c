/**
 * Finds the residual stream structurally: a residual Add is `out = x + f(LayerNorm(x))`, where x also
 * feeds a LayerNorm (fused `LayerNormalization`, or the decomposed ReduceMean → Sub pattern of opset < 17)
 * and the other operand depends on x. Following those Adds from the first stream tensor gives
 * S0 → M1 → S1 → M2 → … (two Adds per block: attention, then MLP), whatever the exporter named things.
 */
import { badModel } from '../contracts/errors.js';
import { dependsOn, nodesBetween, type GraphIndex } from './graph.js';
import type { NodeProto } from './onnx.js';

interface ResidualBlock {
  /** Stream entering the block (hook_resid_pre). */
  pre: string;
  /** Stream after the attention residual add (hook_resid_mid). */
  mid: string;
  /** Block output (hook_resid_post). */
  post: string;
  /** Softmax outputs inside the attention branch ([batch, heads, query, key]); empty if attention is fused. */
  softmax: string[];
  /** The MLP's hidden activation (hook_post): the data input of the branch's last MatMul/Gemm, if found. */
  mlpHidden?: string;
}

export interface ResidualChain {
  blocks: ResidualBlock[];
  layerNormKind: 'LayerNormalization' | 'decomposed' | 'mixed';
}

/** Tensors that are the input of a LayerNorm, with the kind of LayerNorm found. */
function layerNormInputs(index: GraphIndex): Map<string, 'fused' | 'decomposed'> {
  const inputs = new Map<string, 'fused' | 'decomposed'>();
  for (const node of index.nodes) {
    const x = node.input?.[0];
    if (!x) continue;
    if (node.opType === 'LayerNormalization' || node.opType === 'SkipLayerNormalization') {
      inputs.set(x, 'fused');
    } else if (node.opType === 'ReduceMean') {
      const mean = node.output?.[0];
      const centred = (index.consumers.get(x) ?? []).some(
        (c) => c.opType === 'Sub' && c.input?.[0] === x && c.input?.[1] === mean,
      );
      if (centred) inputs.set(x, 'decomposed');
    }
  }
  return inputs;
}

/** Map from stream tensor x to the output of its residual Add `x + f(LN(x))`. */
function residualAdds(index: GraphIndex, lnInputs: Map<string, unknown>): Map<string, string> {
  const next = new Map<string, string>();
  for (const node of index.nodes) {
    if (node.opType !== 'Add' || node.input?.length !== 2) continue;
    const [p, q] = node.input;
    const out = node.output?.[0];
    if (!out) continue;
    for (const [x, branch] of [[p, q], [q, p]]) {
      if (lnInputs.has(x) && !index.initializers.has(branch) && dependsOn(index, branch, x)) {
        if (next.has(x)) throw badModel(`Tensor '${x}' feeds two residual adds; cannot follow the residual stream`);
        next.set(x, out);
      }
    }
  }
  return next;
}

export function findResidualChain(index: GraphIndex): ResidualChain {
  const lnInputs = layerNormInputs(index);
  if (lnInputs.size === 0) throw badModel('No LayerNorm found in the graph: this does not look like a transformer');
  const next = residualAdds(index, lnInputs);
  const produced = new Set(next.values());
  const starts = [...next.keys()].filter((x) => !produced.has(x));
  if (starts.length !== 1) {
    throw badModel(
      starts.length === 0
        ? 'No residual stream found (no Add of the form x + f(LayerNorm(x))): this does not look like a ViT'
        : `Found ${starts.length} separate residual chains; expected one encoder stream`,
    );
  }
  const streams = [starts[0]];
  for (let t = next.get(starts[0]); t !== undefined; t = next.get(t)) streams.push(t);
  if (streams.length < 3 || streams.length % 2 !== 1) {
    throw badModel(`The residual stream has ${streams.length - 1} residual adds; expected two per block (attention, MLP)`);
  }
  const blocks: ResidualBlock[] = [];
  for (let i = 0; i + 2 < streams.length; i += 2) {
    const [pre, mid, post] = [streams[i], streams[i + 1], streams[i + 2]];
    const attention = nodesBetween(index, pre, mid);
    const softmax = attention.filter((n) => n.opType === 'Softmax').map((n) => n.output![0]);
    const mlp = nodesBetween(index, mid, post);
    if (mlp.some((n) => n.opType === 'Softmax')) {
      throw badModel(`Block ${blocks.length}: the second residual branch contains a Softmax; expected attention first, then MLP`);
    }
    blocks.push({ pre, mid, post, softmax, mlpHidden: mlpHidden(index, mlp) });
  }
  const kinds = new Set(streams.filter((s) => lnInputs.has(s)).map((s) => lnInputs.get(s)));
  const layerNormKind = kinds.size > 1 ? 'mixed' : kinds.has('fused') ? 'LayerNormalization' : 'decomposed';
  return { blocks, layerNormKind };
}

/**
 * The MLP branch M → post is LN → up-projection → nonlinearity → down-projection (→ bias, layer scale):
 * the down-projection is the branch's one MatMul/Gemm (with a weight initializer) that no other such node
 * follows, and its data input is the hidden activation after the nonlinearity, whatever the exporter named it.
 */
function mlpHidden(index: GraphIndex, mlp: NodeProto[]): string | undefined {
  const projections = mlp.filter((n) => (n.opType === 'MatMul' || n.opType === 'Gemm') && index.initializers.has(n.input?.[1] ?? ''));
  const last = projections.filter((p) => !projections.some((q) => q !== p && dependsOn(index, q.input![0], p.output![0])));
  if (projections.length < 2 || last.length !== 1) return undefined;
  return last[0].input![0];
}
