/**
 * The edit kinds of a tap plan: changes to the forward pass, each spliced in at one hook so the pass
 * continues from the edited value. Every kind declares the graph inputs it needs, so one session serves
 * every run of the edit (values are fed per run) and the identity values reproduce the unmodified model.
 *
 * 'add-token' and 'neurons' (test-time registers, issue 14) live in tap/edit-register.ts; they change the
 * graph only and read no inputs. 'attention-bias' (issue 15: extra key/value slots in one attention) lives in
 * attention-bias.ts; its keys, values and offsets are fed per run.
 */
import { badModel } from '../contracts/errors.js';
import { hookLayer, layerHook, type ResidPostHook, type ResidPreHook } from '../contracts/hooks.js';
import type { HookTable } from '../model/hook-table.js';
import { DataType, type GraphBuilder, type GraphProto } from '../model/onnx.js';
import { attentionBias, attentionBiasFeeds, attentionBiasIdentity, type AttentionBiasEdit, type AttentionBiasInputs, type AttentionBiasValues } from './attention-bias.js';
import { addToken, moveNeurons, type AddTokenEdit, type NeuronsEdit } from './edit-register.js';
import { claim, spliceAfter } from './graph-edit.js';

export { attentionBiasAt, type AttentionBiasEdit, type AttentionBiasValues } from './attention-bias.js';
export type { NeuronsEdit } from './edit-register.js';

/** `y = x * mask + fill` at one hidden state x; mask and fill are [1, tokens, dims] graph inputs. */
export interface CellsEdit {
  kind: 'cells';
  /** The residual hook edited (`layerHook(L)` for hidden_states[L]). */
  hook: ResidPreHook | ResidPostHook;
  tokens: number;
  dims: number;
}

export type Edit = CellsEdit | AttentionBiasEdit | AddTokenEdit | NeuronsEdit;

/** The cells edit of hidden_states[layer]; a layer the model lacks is refused when the plan is applied. */
export function cellsAt(layer: number, tokens: number, dims: number): CellsEdit {
  if (!Number.isInteger(layer) || layer < 0) throw badModel(`Cannot intervene at layer ${layer}: hidden states are numbered 0, 1, 2, …`);
  return { kind: 'cells', hook: layerHook(layer), tokens, dims };
}

/** The graph inputs one edit reads, by role. */
interface CellsInputs {
  kind: 'cells';
  mask: string;
  fill: string;
  shape: [1, number, number];
}

/** The register edits read no graph inputs. */
interface GraphOnlyInputs {
  kind: 'add-token' | 'neurons';
}

export type EditInputs = CellsInputs | AttentionBiasInputs | GraphOnlyInputs;

/** The hook table as the edits need it (the neurons edit's ReduceMax takes axes as an input from opset 18). */
type EditHooks = Pick<HookTable, 'numBlocks' | 'tensors' | 'opset'>;

/**
 * Applies the edits to a decoded graph in place; returns the inputs each one reads (same order as
 * `edits`). `b` is the plan's one builder (fresh names are unique per builder). Call it before anything
 * else reads the edited tensors: a consumer added later (an exposed hook, an in-graph statistic) still
 * reads the value as computed, before the edit.
 */
export function applyEdits(b: GraphBuilder, hooks: EditHooks, edits: readonly Edit[]): EditInputs[] {
  const graph = b.graph;
  const edited = new Set<string>();
  return edits.map((edit, i) => {
    switch (edit.kind) {
      case 'cells':
        return cells(graph, b, hooks, edit, i, edited);
      case 'attention-bias':
        return attentionBias(b, hooks.tensors, edit, i, edited);
      case 'add-token':
        addToken(graph, b, hooks, edit, edited);
        return { kind: 'add-token' };
      case 'neurons':
        moveNeurons(graph, b, hooks, edit, edited);
        return { kind: 'neurons' };
      default:
        throw new Error(`unknown edit kind ${(edit as { kind: string }).kind}`);
    }
  });
}

function cells(graph: GraphProto, b: GraphBuilder, hooks: EditHooks, edit: CellsEdit, i: number, edited: Set<string>): CellsInputs {
  const layer = hookLayer(edit.hook);
  if (layer === undefined || layer > hooks.numBlocks) {
    throw badModel(`Cannot intervene at layer ${layer ?? edit.hook}: the model has hidden states 0 … ${hooks.numBlocks}`);
  }
  const x = hooks.tensors.get(edit.hook);
  if (!x) throw badModel(`Hook ${edit.hook} is not available in this graph`);
  claim(edited, x, `edits of ${edit.hook}`);
  const inputs: CellsInputs = { kind: 'cells', mask: `massivit/edit/${i}/mask`, fill: `massivit/edit/${i}/fill`, shape: [1, edit.tokens, edit.dims] };
  const shape = { dim: inputs.shape.map((d) => ({ dimValue: d })) };
  for (const name of [inputs.mask, inputs.fill]) (graph.input ??= []).push({ name, type: { tensorType: { elemType: DataType.FLOAT, shape } } });
  spliceAfter(graph, x, () => b.one('Add', [b.one('Mul', [x, inputs.mask]), inputs.fill]));
  return inputs;
}

/** The values that leave an edit's graph unchanged: fed when a run passes none. */
export function identityValues(inputs: EditInputs): EditValues {
  if (inputs.kind === 'attention-bias') return attentionBiasIdentity(inputs);
  if (inputs.kind !== 'cells') return { kind: inputs.kind };
  const n = inputs.shape.reduce((a, d) => a * d, 1);
  return { kind: 'cells', mask: new Float32Array(n).fill(1), fill: new Float32Array(n) };
}

/** Per-run values of an edit's inputs. */
export interface CellsValues {
  kind: 'cells';
  mask: Float32Array;
  fill: Float32Array;
}

export type EditValues = CellsValues | AttentionBiasValues | { kind: 'add-token' | 'neurons' };

/** The feeds of one edit: input name → [data, dims]. */
export function editFeeds(inputs: EditInputs, values: EditValues): [string, Float32Array, number[]][] {
  if (inputs.kind !== values.kind) throw new Error(`values of a '${values.kind}' edit given for a '${inputs.kind}' edit`);
  if (inputs.kind === 'attention-bias') return attentionBiasFeeds(inputs, values as AttentionBiasValues);
  if (inputs.kind !== 'cells' || values.kind !== 'cells') return [];
  return [
    [inputs.mask, values.mask, inputs.shape],
    [inputs.fill, values.fill, inputs.shape],
  ];
}
