/**
 * The intervention rewrite (tap/intervene.ts): with the identity edit (mask 1, fill 0) the rewritten graph
 * gives bit-identical outputs to the original; with a real edit, only what reads the edited cells changes.
 */
import { describe, expect, it } from 'vitest';
import { loadModel, type ModelSpec } from '../../src/model/load.js';
import { createSession, ort } from '../../src/run/session.js';
import { applyIntervention, FILL_INPUT, HIDDEN_OUTPUT, MASK_INPUT } from '../../src/tap/intervene.js';
import { fixtureModel, realVitTiny } from '../helpers/env.js';

const real = realVitTiny();

/** Two deterministic non-trivial inputs. */
function pixels(spec: ModelSpec): ort.Tensor {
  const { height, width } = spec.preprocess;
  const data = new Float32Array(2 * 3 * height * width).map((_, i) => Math.sin(i * 0.37) * 1.5);
  return new ort.Tensor('float32', data, [2, 3, height, width]);
}

async function runEdited(spec: ModelSpec, layer: number, mask: Float32Array, fill: Float32Array): Promise<Record<string, ort.Tensor>> {
  const T = spec.tokens.sequenceLength;
  const D = spec.arch.hiddenSize;
  const graph = applyIntervention(spec.bytes, layer, T, D);
  const { session } = await createSession(graph.bytes, { device: 'cpu', threads: 1 });
  try {
    const feeds = { [spec.inputName]: pixels(spec), [MASK_INPUT]: new ort.Tensor('float32', mask, [1, T, D]), [FILL_INPUT]: new ort.Tensor('float32', fill, [1, T, D]) };
    return (await session.run(feeds, graph.outputs)) as Record<string, ort.Tensor>;
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
      expect(edited[HIDDEN_OUTPUT].dims.map(Number)).toEqual([2, T, D]);
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
    expect(edited[HIDDEN_OUTPUT].data).toEqual(identity[HIDDEN_OUTPUT].data);
    expect(edited.pooler_output.data).not.toEqual(identity.pooler_output.data);
  });

  it('refuses a layer the model does not have', () => {
    const spec = loadModel(fixtureModel('tiny-vit-op17'));
    expect(() => applyIntervention(spec.bytes, spec.arch.numLayers + 1, spec.tokens.sequenceLength, spec.arch.hiddenSize)).toThrow(/hidden states 0 … 4/);
  });
});
