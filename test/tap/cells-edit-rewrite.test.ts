/**
 * The intervention rewrite (the 'cells' edit of tap/edits.ts, applied by tap/plan.ts applyTap): with the identity edit (mask 1, fill 0) the rewritten graph
 * gives bit-identical outputs to the original; with a real edit, only what reads the edited cells changes.
 */
import { describe, expect, it } from 'vitest';
import { loadModel, type ModelSpec } from '../../src/model/load.js';
import { createSession, ort } from '../../src/run/session.js';
import { cellsAt } from '../../src/tap/edits.js';
import { applyTap, byOutputName, sessionFetches } from '../../src/tap/plan.js';
import { fixtureModel, realVitTiny } from '../helpers/env.js';

const real = realVitTiny();

/** Two deterministic non-trivial inputs. */
function pixels(spec: ModelSpec): ort.Tensor {
  const { height, width } = spec.preprocess;
  const data = new Float32Array(2 * 3 * height * width).map((_, i) => Math.sin(i * 0.37) * 1.5);
  return new ort.Tensor('float32', data, [2, 3, height, width]);
}

/** The model's outputs, and `hidden`: the edited hook as computed (before the edit). */
async function runEdited(spec: ModelSpec, layer: number, mask: Float32Array, fill: Float32Array): Promise<Record<string, ort.Tensor>> {
  const edit = cellsAt(layer, spec.tokens.sequenceLength, spec.arch.hiddenSize);
  const graph = applyTap(spec.bytes, { expose: [edit.hook], edits: [edit], keepOutputs: true });
  const [inputs] = graph.inputs;
  if (inputs.kind !== 'cells') throw new Error(`expected the cells edit's inputs, got ${inputs.kind}`);
  const { session } = await createSession(graph.bytes, { device: 'cpu', threads: 1 });
  try {
    const feeds = { [spec.inputName]: pixels(spec), [inputs.mask]: new ort.Tensor('float32', mask, inputs.shape), [inputs.fill]: new ort.Tensor('float32', fill, inputs.shape) };
    const out = byOutputName(graph, (await session.run(feeds, sessionFetches(graph))) as Record<string, ort.Tensor>);
    return { ...out, hidden: out[edit.hook] };
  } finally {
    await session.release();
  }
}

async function runOriginal(spec: ModelSpec): Promise<Record<string, ort.Tensor>> {
  const { session } = await createSession(spec.bytes, { device: 'cpu', threads: 1 });
  try {
    return (await session.run({ [spec.inputName]: pixels(spec) })) as Record<string, ort.Tensor>;
  } finally {
    await session.release();
  }
}

const models: [string, string | undefined][] = [
  ['tiny-vit-op14 (decomposed LayerNorm, classifier)', fixtureModel('tiny-vit-op14')],
  ['tiny-dinov2-reg-op17 (fused LayerNorm, features)', fixtureModel('tiny-dinov2-reg-op17')],
  ['real ViT-Ti/16', real],
];

describe.each(models)('identity edit on %s', (_name, path) => {
  it.skipIf(!path)('is bit-identical to the unmodified model at the first, a middle and the last layer', async () => {
    const spec = loadModel(path!);
    const T = spec.tokens.sequenceLength;
    const D = spec.arch.hiddenSize;
    const original = await runOriginal(spec);
    for (const layer of [0, Math.floor(spec.arch.numLayers / 2), spec.arch.numLayers]) {
      const edited = await runEdited(spec, layer, new Float32Array(T * D).fill(1), new Float32Array(T * D));
      for (const name of spec.outputNames) expect(edited[name].data, `${name} at layer ${layer}`).toEqual(original[name].data);
      expect(edited.hidden.dims.map(Number)).toEqual([2, T, D]);
    }
  });
});

describe('a real edit', () => {
  it('writes the fill into the edited cells and changes the output, while the exposed hidden state stays unedited', async () => {
    const spec = loadModel(fixtureModel('tiny-dinov2-reg-op17'));
    const T = spec.tokens.sequenceLength;
    const D = spec.arch.hiddenSize;
    const mask = new Float32Array(T * D).fill(1);
    const fill = new Float32Array(T * D);
    // Set every dim of the CLS token at layer 1 to 5: the pooled output (LayerNorm of CLS) must change.
    for (let d = 0; d < D; d++) [mask[d], fill[d]] = [0, 5];
    const identity = await runEdited(spec, 1, new Float32Array(T * D).fill(1), new Float32Array(T * D));
    const edited = await runEdited(spec, 1, mask, fill);
    expect(edited.hidden.data).toEqual(identity.hidden.data);
    expect(edited.pooler_output.data).not.toEqual(identity.pooler_output.data);
  });

  it('refuses a layer the model does not have', () => {
    const spec = loadModel(fixtureModel('tiny-vit-op17'));
    const edit = cellsAt(spec.arch.numLayers + 1, spec.tokens.sequenceLength, spec.arch.hiddenSize);
    expect(() => applyTap(spec.bytes, { expose: [], edits: [edit] })).toThrow(/hidden states 0 … 4/);
  });
});
