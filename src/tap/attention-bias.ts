/**
 * The 'attention-bias' edit (issue 15): Sun et al.'s explicit attention bias, as `slots` extra key/value
 * pairs appended to one attention block, softmax([q·K, q·k′ + logit]) · [V; v′]. Found structurally per
 * block: the Softmax of the attention branch, the MatMul whose output it normalises (through the scale
 * ops: Div, Mul, Add, Sub, Cast), that MatMul's key operand ([…, d, T]), and the MatMul that applies the
 * Softmax to the values ([…, T, d]). Both operands may be [B, H, …] (HF ViT, DINOv2) or [B·H, …] (CLIP);
 * they are reshaped to [B, H, …] so the slots broadcast per head, and back.
 * key, value and logit are graph inputs, fed per run: logit −∞ gives the slot weight exactly 0.
 */
import { badModel } from '../contracts/errors.js';
import { attnPattern } from '../contracts/hooks.js';
import { indexGraph, type GraphIndex } from '../model/graph.js';
import { DataType, type GraphBuilder, type GraphProto, type NodeProto } from '../model/onnx.js';
import { claim } from './graph-edit.js';
import { perHeadView } from './reduce.js';

export interface AttentionBiasEdit {
  kind: 'attention-bias';
  /** 0-based transformer block whose attention gets the slots. */
  block: number;
  heads: number;
  headDim: number;
  /** Sequence length T (the scores' key axis before the slots). */
  tokens: number;
  /** Extra key/value slots; 0 rewrites the graph with empty slots (a structural no-op). */
  slots: number;
}

export interface AttentionBiasInputs {
  kind: 'attention-bias';
  /** [1, heads, headDim, slots]: the slots' keys, laid out as the key operand of q·K. */
  key: string;
  keyShape: [1, number, number, number];
  /** [1, heads, slots, headDim]. */
  value: string;
  valueShape: [1, number, number, number];
  /** [slots]: added to the slots' scores after the attention's own scaling. */
  logit: string;
  logitShape: [number];
  /** Session outputs: the block's keys [B, H, d, T] and values [B, H, T, d] as computed, without the slots. */
  keys: string;
  values: string;
}

export interface AttentionBiasValues {
  kind: 'attention-bias';
  key: Float32Array;
  value: Float32Array;
  logit: Float32Array;
}

export function attentionBiasAt(block: number, heads: number, headDim: number, tokens: number, slots = 1): AttentionBiasEdit {
  if (!Number.isInteger(block) || block < 0) throw badModel(`Cannot add an attention bias to block ${block}: blocks are numbered 0, 1, 2, …`);
  return { kind: 'attention-bias', block, heads, headDim, tokens, slots };
}

const SCALE_OPS = new Set(['Div', 'Mul', 'Add', 'Sub', 'Cast', 'Identity']);
const PASS_OPS = new Set(['Identity', 'Dropout', 'Cast']);

/** The score MatMul behind a Softmax input, through the scale ops. */
function scoreMatMul(index: GraphIndex, softmaxInput: string, block: number): NodeProto {
  let t = softmaxInput;
  for (let step = 0; step < 8; step++) {
    const node = index.producer.get(t);
    if (!node) break;
    if (node.opType === 'MatMul') return node;
    if (!SCALE_OPS.has(node.opType ?? '')) break;
    const inputs = (node.input ?? []).filter((x): x is string => !!x && !index.initializers.has(x));
    t = inputs.find((x) => index.producer.get(x)?.opType === 'MatMul') ?? inputs.find((x) => SCALE_OPS.has(index.producer.get(x)?.opType ?? '')) ?? '';
  }
  throw badModel(`Block ${block}: no q·K MatMul found behind the attention Softmax; cannot add an attention bias`);
}

/** The MatMul that applies the Softmax output to the values. */
function valueMatMul(index: GraphIndex, softmaxOutput: string, block: number): NodeProto {
  let t = softmaxOutput;
  for (let step = 0; step < 4; step++) {
    const consumers = index.consumers.get(t) ?? [];
    if (consumers.length !== 1) break;
    const [node] = consumers;
    if (node.opType === 'MatMul' && node.input?.[0] === t) return node;
    if (!PASS_OPS.has(node.opType ?? '')) break;
    t = node.output![0] ?? '';
  }
  throw badModel(`Block ${block}: the attention Softmax does not feed one values MatMul; cannot add an attention bias`);
}

/** Runs `build` and moves the nodes it added to just before `before` (the node list stays topologically sorted). */
function insertBefore<T>(graph: GraphProto, before: NodeProto, build: () => T): T {
  const start = graph.node!.length;
  const result = build();
  const added = graph.node!.splice(start);
  graph.node!.splice(graph.node!.indexOf(before), 0, ...added);
  return result;
}

/**
 * `x` ([B, H, a, b] or [B·H, a, b]) with `slot` ([1, H, …]) concatenated on `axis` (−1 or −2) of its
 * [B, H, a, b] view. Returns the [B, H, a, b] view (what the session exposes) and the result in x's rank.
 */
function withSlots(b: GraphBuilder, x: string, slot: string, slotDims: [number, number, number], axis: -1 | -2, heads: number): { view: string; out: string } {
  const int = (v: number[]) => b.constant(v, [v.length], 'int64');
  const { view, shape } = perHeadView(b, x, heads);
  const batch = b.one('Slice', [b.one('Shape', [view]), int([0]), int([1])]);
  const slots = b.one('Expand', [slot, b.one('Concat', [batch, int(slotDims)], { axis: 0 })]);
  const joined = b.one('Concat', [view, slots], { axis: axis === -1 ? 3 : 2 });
  // Back to x's rank: its leading dims, then the joined view's last two.
  const lead = b.one('Slice', [shape, int([0]), int([-2])]);
  const outShape = b.one('Concat', [lead, b.one('Slice', [b.one('Shape', [joined]), int([-2]), int([1 << 30])])], { axis: 0 });
  return { view, out: b.one('Reshape', [joined, outShape]) };
}

export function attentionBias(b: GraphBuilder, tensors: Map<string, string>, edit: AttentionBiasEdit, i: number, edited: Set<string>): AttentionBiasInputs {
  const graph = b.graph;
  const pattern = tensors.get(attnPattern(edit.block));
  if (!pattern) throw badModel(`Block ${edit.block}: no single attention Softmax to add a bias to (fused attention, or no such block)`);
  claim(edited, pattern, `attention-bias edits of block ${edit.block}`);
  const index = indexGraph(graph);
  const softmax = index.producer.get(pattern)!;
  const scores = scoreMatMul(index, softmax.input![0], edit.block);
  const apply = valueMatMul(index, pattern, edit.block);
  const { heads: H, headDim: d, slots: S, tokens: T } = edit;
  const name = (role: string) => `massivit/edit/${i}/${role}`;
  const inputs: AttentionBiasInputs = {
    kind: 'attention-bias',
    key: name('key'), keyShape: [1, H, d, S],
    value: name('value'), valueShape: [1, H, S, d],
    logit: name('logit'), logitShape: [S],
    keys: `blocks.${edit.block}.attn.keys`, values: `blocks.${edit.block}.attn.values`,
  };
  for (const [input, dims] of [[inputs.key, inputs.keyShape], [inputs.value, inputs.valueShape], [inputs.logit, inputs.logitShape]] as const) {
    (graph.input ??= []).push({ name: input, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((v) => ({ dimValue: v })) } } } });
  }
  const k = insertBefore(graph, scores, () => withSlots(b, scores.input![1], inputs.key, [H, d, S], -1, H));
  scores.input![1] = k.out;
  // The slots' scores pass through the attention's own scaling; the logit is added just before the Softmax.
  const z = insertBefore(graph, softmax, () => b.one('Add', [softmax.input![0], b.one('Concat', [b.constant(new Float32Array(T), [T], 'float32'), inputs.logit], { axis: 0 })]));
  softmax.input![0] = z;
  const v = insertBefore(graph, apply, () => withSlots(b, apply.input![1], inputs.value, [H, S, d], -2, H));
  apply.input![1] = v.out;
  b.output(k.view, inputs.keys);
  b.output(v.view, inputs.values);
  return inputs;
}

/** No slot weight (logit −∞): the model's attention, up to the rounding of one more term. */
export function attentionBiasIdentity(inputs: AttentionBiasInputs): AttentionBiasValues {
  const size = (s: readonly number[]) => s.reduce((a, x) => a * x, 1);
  return { kind: 'attention-bias', key: new Float32Array(size(inputs.keyShape)), value: new Float32Array(size(inputs.valueShape)), logit: new Float32Array(size(inputs.logitShape)).fill(-Infinity) };
}

export function attentionBiasFeeds(inputs: AttentionBiasInputs, values: AttentionBiasValues): [string, Float32Array, number[]][] {
  return [
    [inputs.key, values.key, inputs.keyShape],
    [inputs.value, values.value, inputs.valueShape],
    [inputs.logit, values.logit, inputs.logitShape],
  ];
}
