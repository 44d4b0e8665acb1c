/**
 * The tap's output bytes are the original model with only the graph field rebuilt (tap/splice.ts). They
 * must decode to exactly the model a full re-encode of the rewritten graph gives, for every kind of edit the
 * tap makes: whole hooks exposed, in-graph statistics (new nodes and initializers), attention summaries,
 * the model's own outputs kept or dropped.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CRITERIA } from '../../src/contracts/criteria.js';
import { layerHook } from '../../src/contracts/hooks.js';
import { loadModel } from '../../src/model/load.js';
import { applyTap, tapModel, type TapPlan } from '../../src/tap/plan.js';
import { decodeModel, encodeModel, onnx } from '../../src/model/onnx.js';
import { spliceGraph } from '../../src/tap/splice.js';
import { fixtureModel } from '../helpers/env.js';

const asObject = (bytes: Uint8Array) => onnx.ModelProto.toObject(decodeModel(bytes), { longs: String, bytes: String });

describe('graph splice', () => {
  const spec = loadModel(fixtureModel('tiny-dinov2-reg-op17'));
  const reduce = { layers: [], attention: false, numHeads: spec.arch.numHeads, topK: 4, criteria: DEFAULT_CRITERIA };
  const plans: [string, TapPlan][] = [
    ['every layer whole, own outputs dropped', { expose: Array.from({ length: spec.hooks.numBlocks + 1 }, (_, i) => layerHook(i)), reduce, keepOutputs: false }],
    ['in-graph statistics and attention, own outputs kept', { expose: [], reduce: { ...reduce, layers: [0, 2, 4], attention: true }, keepOutputs: true }],
  ];

  it.each(plans)('%s: decodes to the fully re-encoded model', (_, plan) => {
    const tapped = applyTap(spec.bytes, plan);
    const edited = decodeModel(spec.bytes);
    tapModel(edited, plan);
    expect(asObject(tapped.bytes)).toEqual(asObject(encodeModel(edited))); // the same edit, encoded in full
    const graph = decodeModel(tapped.bytes).graph!;
    const original = decodeModel(spec.bytes).graph!;
    expect(graph.initializer!.slice(0, original.initializer!.length).map((t) => t.name)).toEqual(original.initializer!.map((t) => t.name));
    expect(graph.node!.slice(0, original.node!.length).map((n) => n.name)).toEqual(original.node!.map((n) => n.name));
    expect(graph.node!.length).toBeGreaterThan(plan.reduce!.layers.length > 0 ? original.node!.length : 0);
  });

  it('refuses bytes that are not a single-graph model, so the caller encodes in full', () => {
    const noGraph = encodeModel(onnx.ModelProto.create({ irVersion: 8 }));
    expect(spliceGraph(noGraph, { nodes: [], initializers: [], outputs: [] })).toBeUndefined();
    expect(() => spliceGraph(Uint8Array.from([0x3a, 0x05, 0x01]), { nodes: [], initializers: [], outputs: [] })).toThrow(/truncated/);
  });
});
