/**
 * The test-time register edits (issue 14; Jiang et al. 2025, "Vision Transformers Don't Need Trained
 * Registers"): 'add-token' inserts one zero token into the stream after the embeddings, 'neurons' moves
 * chosen MLP neurons' activation out of the patches into that token. Both are pure graph changes (no
 * per-run inputs) built from Slice/Concat on the token axis, so the sequence length stays dynamic and no
 * reshape constant of the attention needs touching.
 */
import { badModel } from '../contracts/errors.js';
import { mlpPost, residPre } from '../contracts/hooks.js';
import type { HookTable } from '../model/hook-table.js';
import type { GraphBuilder, GraphProto } from '../model/onnx.js';
import { claim, spliceAfter } from './graph-edit.js';
import { reduce } from './reduce.js';

/** One zero token inserted at sequence index `at` of hidden_states[0] (at 1: [CLS, register, patches]). */
export interface AddTokenEdit {
  kind: 'add-token';
  at: number;
}

/**
 * At `blocks.{block}.mlp.hook_post`: each chosen neuron takes, at token `register`, its sign-aware maximum
 * over the tokens from `register` on (the register and the patches), and 0 on the tokens after it.
 * Tokens before `register` (CLS) are untouched. `signs[i]` (+1/−1) says which extreme neuron i keeps.
 */
export interface NeuronsEdit {
  kind: 'neurons';
  block: number;
  neurons: number[];
  signs: number[];
  register: number;
}


const END = 2 ** 31 - 1;

/** x[from:to] along `axis` (default 1, the token axis). */
function tokens(b: GraphBuilder, x: string, from: number, to: number, axis = 1): string {
  return b.one('Slice', [x, b.constant([from], [1], 'int64'), b.constant([to], [1], 'int64'), b.constant([axis], [1], 'int64')]);
}

export function addToken(graph: GraphProto, b: GraphBuilder, hooks: Pick<HookTable, 'numBlocks' | 'tensors'>, edit: AddTokenEdit, edited: Set<string>): void {
  const x = hooks.tensors.get(residPre(0));
  if (!x) throw badModel('Cannot add a token: the graph has no embeddings output (hidden_states[0])');
  if (!Number.isInteger(edit.at) || edit.at < 1) throw badModel(`Cannot add a token at index ${edit.at}: it goes after CLS (index ≥ 1)`);
  claim(edited, x, 'edits of hidden_states[0]');
  spliceAfter(graph, x, () => {
    const shape = b.one('Shape', [x]);
    const one = b.constant([1], [1], 'int64');
    // A [batch, 1, width] zero from x's shape, not 0·x: a non-finite embedding must not make it NaN.
    const tokenShape = b.one('Concat', [tokens(b, shape, 0, 1, 0), one, tokens(b, shape, 2, 3, 0)], { axis: 0 });
    const zero = b.one('Expand', [b.constant([0], [1, 1, 1], 'float32'), tokenShape]);
    return b.one('Concat', [tokens(b, x, 0, edit.at), zero, tokens(b, x, edit.at, END)], { axis: 1 });
  });
}

export function moveNeurons(graph: GraphProto, b: GraphBuilder, hooks: Pick<HookTable, 'numBlocks' | 'tensors' | 'opset'>, edit: NeuronsEdit, edited: Set<string>): void {
  const hook = mlpPost(edit.block);
  const x = hooks.tensors.get(hook);
  if (!x) throw badModel(`Cannot edit neurons of block ${edit.block}: ${hook} is not available in this graph (blocks 0 … ${hooks.numBlocks - 1})`);
  claim(edited, x, `edits of ${hook}`);
  if (edit.neurons.length === 0 || edit.signs.length !== edit.neurons.length) throw new Error('a neurons edit needs one sign per neuron and at least one neuron');
  const width = Math.max(...edit.neurons) + 1;
  const init = graph.initializer ?? [];
  // The down-projection weight [mlp width, hidden] gives the neuron count without running the model.
  const down = (graph.node ?? []).find((n) => (n.input ?? [])[0] === x && (n.opType === 'MatMul' || n.opType === 'Gemm'));
  const weight = init.find((t) => t.name === down?.input?.[1]);
  const mlpWidth = Number(weight?.dims?.[0] ?? width);
  if (width > mlpWidth) throw badModel(`Neuron ${width - 1} does not exist in block ${edit.block}: its MLP has ${mlpWidth} neurons`);
  const select = new Float32Array(mlpWidth);
  const keep = new Float32Array(mlpWidth).fill(1);
  const sign = new Float32Array(mlpWidth).fill(1);
  edit.neurons.forEach((n, i) => {
    select[n] = 1;
    keep[n] = 0;
    sign[n] = edit.signs[i] < 0 ? -1 : 1;
  });
  spliceAfter(graph, x, () => {
    const sel = b.constant(select, [mlpWidth], 'float32');
    const kept = b.constant(keep, [mlpWidth], 'float32');
    const sgn = b.constant(sign, [mlpWidth], 'float32');
    const reg = edit.register;
    const extreme = b.one('Mul', [reduce({ b, opset: hooks.opset }, 'ReduceMax', b.one('Mul', [tokens(b, x, reg, END), sgn]), [1], 1), sgn]);
    const register = b.one('Add', [b.one('Mul', [tokens(b, x, reg, reg + 1), kept]), b.one('Mul', [extreme, sel])]);
    const patches = b.one('Mul', [tokens(b, x, reg + 1, END), kept]);
    return b.one('Concat', [tokens(b, x, 0, reg), register, patches], { axis: 1 });
  });
}
