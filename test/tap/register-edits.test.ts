/** The register edits on the tiny fixtures (tap/edit-register.ts): the hook they edit, what they compute, what they refuse. */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { mlpPost } from '../../src/contracts/hooks.js';
import { loadModel } from '../../src/model/load.js';
import { registerEdits, registerModelBytes } from '../../src/pipelines/registers/add.js';
import type { RegisterNeuron } from '../../src/outputs/register-neurons.js';
import { DataType, decodeModel, encodeModel } from '../../src/model/onnx.js';
import { applyTap, tapModel } from '../../src/tap/plan.js';
import { fixtureModel } from '../helpers/env.js';

const FIXTURES = ['tiny-vit-op14', 'tiny-vit-op17', 'tiny-dinov2-op14', 'tiny-dinov2-op17', 'tiny-clip-vision-op14', 'synthetic-dinov2'];
const neuron = (block: number, index: number, sign: 1 | -1 = 1): RegisterNeuron => ({ block, index, sign, atOutliers: 1, elsewhere: 0, ratio: null });

describe('blocks.{i}.mlp.hook_post', () => {
  it.each(FIXTURES)('%s: every block has one, the data input of the MLP down-projection', (name) => {
    const spec = loadModel(fixtureModel(name));
    const graph = decodeModel(spec.bytes).graph!;
    const inits = new Set((graph.initializer ?? []).map((t) => t.name));
    for (let b = 0; b < spec.arch.numLayers; b++) {
      const x = spec.hooks.tensors.get(mlpPost(b));
      expect(x, `block ${b}`).toBeDefined();
      const readers = graph.node!.filter((n) => (n.input ?? []).includes(x!));
      expect(readers.map((n) => n.opType)).toEqual(['MatMul']);
      // Its weight maps the MLP width back to the residual width.
      const w = graph.initializer!.find((t) => t.name === readers[0].input![1])!;
      expect(inits.has(w.name)).toBe(true);
      expect(Number(w.dims![1])).toBe(spec.arch.hiddenSize);
    }
  });
});

describe('add-token + neurons edits', () => {
  it.each(FIXTURES)('%s: the written graph runs with one more token (the register at index 1)', async (name) => {
    const spec = loadModel(fixtureModel(name));
    const bytes = registerModelBytes(spec, registerEdits(spec, [neuron(0, 3), neuron(1, 5, -1)]));
    const model = decodeModel(bytes);
    const { fetch } = tapModel(model, { expose: ['blocks.0.hook_resid_pre', 'blocks.1.hook_resid_post'] });
    const session = await ort.InferenceSession.create(encodeModel(model));
    const { height, width } = spec.preprocess;
    const out = await session.run({ pixel_values: new ort.Tensor('float32', new Float32Array(2 * 3 * height * width).fill(0.3), [2, 3, height, width]) }, fetch);
    await session.release();
    const h = out[fetch[0]];
    expect(h.dims.map(Number)).toEqual([2, spec.tokens.sequenceLength + 1, spec.arch.hiddenSize]);
    // The register enters as zeros; the other tokens keep their embedding.
    const D = spec.arch.hiddenSize;
    expect(Array.from((h.data as Float32Array).subarray(D, 2 * D)).every((v) => v === 0)).toBe(true);
    expect(Array.from(out[fetch[1]].data as Float32Array).every(Number.isFinite)).toBe(true);
  });

  it('moves each chosen neuron’s sign-aware extreme over register + patches into the register and zeroes it on the patches', async () => {
    const spec = loadModel(fixtureModel('tiny-vit-op17'));
    const chosen = [neuron(1, 7, 1), neuron(1, 20, -1)];
    const model = decodeModel(spec.bytes);
    const hooks = tapModel(model, { expose: [], edits: registerEdits(spec, chosen), keepOutputs: true }).hooks;
    const before = hooks.tensors.get(mlpPost(1))!;
    const graph = model.graph!;
    // The value the down-projection reads now: the edit's output.
    const down = graph.node!.find((n) => n.opType === 'MatMul' && graph.node!.some((m) => m.output![0] === n.input![0] && m.opType === 'Concat') && n.name?.includes('layer.1/output'))!;
    const after = down.input![0];
    for (const t of [before, after]) graph.output!.push({ name: t, type: { tensorType: { elemType: DataType.FLOAT } } });
    const session = await ort.InferenceSession.create(encodeModel(model));
    const { height, width } = spec.preprocess;
    const pixels = Float32Array.from({ length: 3 * height * width }, (_, i) => Math.sin(i * 0.37));
    const out = await session.run({ pixel_values: new ort.Tensor('float32', pixels, [1, 3, height, width]) }, [before, after]);
    await session.release();
    const [x, y] = [out[before].data as Float32Array, out[after].data as Float32Array];
    const H = Number(out[before].dims[2]);
    const T = Number(out[before].dims[1]);
    expect(T).toBe(spec.tokens.sequenceLength + 1);
    const at = (a: Float32Array, t: number, h: number) => a[t * H + h];
    for (const { index: h, sign } of chosen) {
      const over = Array.from({ length: T - 1 }, (_, t) => at(x, t + 1, h));
      expect(at(y, 1, h)).toBeCloseTo(sign > 0 ? Math.max(...over) : Math.min(...over), 5);
      for (let t = 2; t < T; t++) expect(at(y, t, h) === 0).toBe(true); // ±0
      expect(at(y, 0, h)).toBe(at(x, 0, h));
    }
    // Every other neuron passes through unchanged.
    for (let t = 0; t < T; t++) for (const h of [0, 8, 21, H - 1]) expect(at(y, t, h)).toBe(at(x, t, h));
  });

  it('refuses a neuron past the MLP width or a block past the last, and gives no edits (the original bytes) for no neurons', () => {
    const spec = loadModel(fixtureModel('tiny-vit-op14'));
    expect(() => registerModelBytes(spec, registerEdits(spec, [neuron(0, 128)]))).toThrow(/Neuron 128 does not exist in block 0: its MLP has 128 neurons/);
    expect(() => applyTap(spec.bytes, { expose: [], edits: registerEdits(spec, [neuron(4, 1)]) })).toThrow(/blocks\.4\.mlp\.hook_post is not available/);
    expect(registerEdits(spec, [])).toEqual([]);
    expect(registerModelBytes(spec, [])).toBe(spec.bytes);
  });
});
