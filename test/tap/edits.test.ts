/** The edit kinds of a plan (tap/edits.ts), checked on the graph alone: what they refuse, what they add. */
import { describe, expect, it } from 'vitest';
import { layerHook } from '../../src/contracts/hooks.js';
import { loadModel } from '../../src/model/load.js';
import { cellsAt } from '../../src/tap/edits.js';
import { applyTap } from '../../src/tap/plan.js';
import { decodeModel } from '../../src/model/onnx.js';
import { fixtureModel } from '../helpers/env.js';

describe('cells edit', () => {
  const spec = loadModel(fixtureModel('tiny-vit-op17'));
  const [T, D] = [spec.tokens.sequenceLength, spec.arch.hiddenSize];

  it('adds a [1, tokens, dims] mask and fill input and rewires every reader of the hook', () => {
    const edit = cellsAt(2, T, D);
    const tapped = applyTap(spec.bytes, { expose: [], edits: [edit] });
    expect(tapped.inputs).toEqual([{ kind: 'cells', mask: 'massivit/edit/0/mask', fill: 'massivit/edit/0/fill', shape: [1, T, D] }]);
    const graph = decodeModel(tapped.bytes).graph!;
    expect(graph.input!.map((i) => i.name)).toEqual(expect.arrayContaining(['massivit/edit/0/mask', 'massivit/edit/0/fill']));
    const x = spec.hooks.tensors.get(edit.hook)!;
    // Only the edit itself still reads x.
    expect(graph.node!.filter((n) => (n.input ?? []).includes(x)).map((n) => n.opType)).toEqual(['Mul']);
  });

  it('refuses a negative layer, a layer past the last, and two edits of one hidden state', () => {
    expect(() => cellsAt(-1, T, D)).toThrow(/Cannot intervene at layer -1/);
    expect(() => applyTap(spec.bytes, { expose: [], edits: [cellsAt(spec.arch.numLayers + 1, T, D)] })).toThrow(/hidden states 0 … 4/);
    // hidden_states[1] is both blocks.0.hook_resid_post and blocks.1.hook_resid_pre.
    const twice = [cellsAt(1, T, D), { kind: 'cells' as const, hook: 'blocks.1.hook_resid_pre' as const, tokens: T, dims: D }];
    expect(layerHook(1)).toBe('blocks.0.hook_resid_post');
    expect(() => applyTap(spec.bytes, { expose: [], edits: twice })).toThrow(/two edits/);
  });
});
