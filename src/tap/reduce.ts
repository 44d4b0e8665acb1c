/**
 * In-graph reductions: per tapped hidden state [batch, tokens, dims] only small summaries leave the
 * session (top-k, exact median, token norms, per-dim counts), so no 37k-float tensor per layer crosses
 * into JS. Output names extend the hook name: `blocks.3.hook_resid_post.median`.
 */
import type { StatsCriteria } from '../contracts/criteria.js';
import { DataType, type GraphBuilder } from '../model/onnx.js';

/** The criteria the in-graph statistics use: the same type as the kernel's (contracts/criteria.ts). */
export type Criteria = StatsCriteria;

export interface ReduceContext {
  b: GraphBuilder;
  opset: number;
}

/** Reduce* ops take axes as an attribute before opset 18 (ReduceSum: before 13), as an input after. */
export function reduce(ctx: ReduceContext, op: string, x: string, axes: number[], keepdims: 0 | 1): string {
  const axesAsInput = op === 'ReduceSum' ? ctx.opset >= 13 : ctx.opset >= 18;
  if (axesAsInput) return ctx.b.one(op, [x, ctx.b.constant(axes, [axes.length], 'int64')], { keepdims });
  return ctx.b.one(op, [x], { axes, keepdims });
}

/** Lower median of |x| over all but the batch axis (as torch.median): the k-th largest, k = n − ⌊(n−1)/2⌋. */
function lowerMedian(ctx: ReduceContext, flatAbs: string): string {
  const { b } = ctx;
  const n = b.one('Gather', [b.one('Shape', [flatAbs]), b.constant([1], [], 'int64')], { axis: 0 });
  const one = b.constant([1], [], 'int64');
  const two = b.constant([2], [], 'int64');
  const k = b.one('Sub', [n, b.one('Div', [b.one('Sub', [n, one]), two])]);
  const k1 = b.one('Reshape', [k, b.constant([1], [1], 'int64')]);
  // sorted=0 lets ORT use nth_element (linear) instead of a sort.
  const [values] = b.node('TopK', [flatAbs, k1], { axis: 1, largest: 1, sorted: 0 }, 2);
  return reduce(ctx, 'ReduceMin', values, [1], 0);
}

/** Count, per dim, the tokens whose |a| exceeds a per-image threshold [batch]. */
function countAbove(ctx: ReduceContext, abs: string, threshold: string): string {
  const { b } = ctx;
  const t3 = b.one('Reshape', [threshold, b.constant([-1, 1, 1], [3], 'int64')]);
  const mask = b.one('Cast', [b.one('Greater', [abs, t3])], { to: DataType.FLOAT });
  return reduce(ctx, 'ReduceSum', mask, [1], 0);
}

/** Adds the statistics of one hidden state `x` [batch, tokens, dims] as outputs named `${hook}.${suffix}`. */
export function addLayerStats(ctx: ReduceContext, x: string, hook: string, topK: number, criteria: Criteria): void {
  const { b } = ctx;
  const flatShape = b.constant([0, -1], [2], 'int64');
  const abs = b.one('Abs', [x]);
  const flatAbs = b.one('Reshape', [abs, flatShape]);
  const flat = b.one('Reshape', [x, flatShape]);
  const [, indices] = b.node('TopK', [flatAbs, b.constant([topK], [1], 'int64')], { axis: 1, largest: 1, sorted: 1 }, 2);
  const signed = b.one('GatherElements', [flat, indices], { axis: 1 });
  const median = lowerMedian(ctx, flatAbs);
  const massiveThreshold = b.one('Max', [
    b.one('Mul', [median, b.scalar(criteria.ratioThreshold)]),
    b.scalar(criteria.absThreshold),
  ]);
  const outlierThreshold = b.one('Mul', [median, b.scalar(criteria.outlierRatio)]);
  b.output(signed, `${hook}.topk_values`);
  b.output(indices, `${hook}.topk_indices`, DataType.INT64);
  b.output(median, `${hook}.median`);
  b.output(reduce(ctx, 'ReduceL2', x, [2], 0), `${hook}.norms`);
  b.output(countAbove(ctx, abs, massiveThreshold), `${hook}.dim_massive`);
  b.output(countAbove(ctx, abs, outlierThreshold), `${hook}.dim_outlier`);
}

/**
 * An attention tensor as [batch, heads, a, b]: HF ViT/DINOv2 exports give [batch, heads, …] already, CLIP's
 * gives [batch·heads, …]. Returns the view and x's own shape.
 */
export function perHeadView(b: GraphBuilder, x: string, heads: number): { view: string; shape: string } {
  const int = (v: number[]) => b.constant(v, [v.length], 'int64');
  const shape = b.one('Shape', [x]);
  const tail = b.one('Slice', [shape, int([-2]), int([1 << 30])]);
  return { view: b.one('Reshape', [x, b.one('Concat', [int([-1, heads]), tail], { axis: 0 })]), shape };
}

/** Attention summaries of one Softmax output ([batch, heads, query, key] or CLIP's [batch·heads, query, key]). */
export function addPatternStats(ctx: ReduceContext, pattern: string, hook: string, numHeads: number): void {
  const { b } = ctx;
  const p4 = perHeadView(b, pattern, numHeads).view;
  // Mean attention each key receives over all queries: [batch, heads, key].
  b.output(reduce(ctx, 'ReduceMean', p4, [2], 0), `${hook}.key_mass`);
  // Row of query 0 (CLS → all keys): [batch, heads, key].
  b.output(b.one('Gather', [p4, b.constant([0], [], 'int64')], { axis: 2 }), `${hook}.cls_row`);
}
