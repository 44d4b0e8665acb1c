/**
 * The 'attention-bias' edit (tap/attention-bias.ts): found structurally in HF ViT (Div scaling, [B,H,…]
 * operands), CLIP (scaled q, [B·H,…] operands) and DINOv2-reg exports. With no slot, or with a slot of
 * logit −∞, every block's rewrite reproduces the model bit for bit; a slot with weight changes the output.
 */
import { describe, expect, it } from 'vitest';
import { loadModel, type ModelSpec } from '../../src/model/load.js';
import { openRunner, type Outputs } from '../../src/run/runner.js';
import { attentionBiasAt, type AttentionBiasValues, type Edit } from '../../src/tap/edits.js';
import { fixtureModel, realVitTiny } from '../helpers/env.js';

const real = realVitTiny();

function pixels(spec: ModelSpec): Float32Array[] {
  const { height, width } = spec.preprocess;
  return [0, 1].map((k) => new Float32Array(3 * height * width).map((_, i) => Math.sin(i * 0.37 + k) * 1.5));
}

const geometry = (spec: ModelSpec) => ({ H: spec.arch.numHeads, d: spec.arch.hiddenSize / spec.arch.numHeads, T: spec.tokens.sequenceLength });

async function outputs(spec: ModelSpec, edits: Edit[], values?: AttentionBiasValues[]): Promise<Outputs> {
  const runner = await openRunner(spec, { expose: [], edits, keepOutputs: true }, { device: 'cpu', threads: 1 });
  try {
    return await runner.run(pixels(spec), values ? { edits: values } : {});
  } finally {
    await runner.close();
  }
}

const models: [string, string | undefined][] = [
  ['tiny-vit-op14 (decomposed LayerNorm, Div scaling)', fixtureModel('tiny-vit-op14')],
  ['tiny-clip-vision-op14 (scaled q, [B·H, T, d] operands)', fixtureModel('tiny-clip-vision-op14')],
  ['synthetic-dinov2-reg (registers, opset 17)', fixtureModel('synthetic-dinov2-reg')],
  ['real ViT-Ti/16', real],
];

describe.each(models)('attention-bias on every block of %s', (_name, path) => {
  it.skipIf(!path)('with no slot, and with 1 or 4 slots of logit −∞, is bit-identical to the unmodified model', async () => {
    const spec = loadModel(path!);
    const { H, d, T } = geometry(spec);
    const original = await outputs(spec, []);
    for (const slots of [0, 1, 4]) {
      const edits = Array.from({ length: spec.arch.numLayers }, (_, b) => attentionBiasAt(b, H, d, T, slots));
      const edited = await outputs(spec, edits);
      for (const name of spec.outputNames) expect(edited[name].data, `${name}, ${slots} slots`).toEqual(original[name].data);
      // The block's keys and values leave the session as [B, H, d, T] and [B, H, T, d], without the slot.
      expect(edited['blocks.0.attn.keys'].dims.map(Number)).toEqual([2, H, d, T]);
      expect(edited['blocks.0.attn.values'].dims.map(Number)).toEqual([2, H, T, d]);
    }
  });
});

describe('a slot with weight', () => {
  it('changes the output, while the keys exposed stay the block’s own', async () => {
    const spec = loadModel(fixtureModel('tiny-vit-op14'));
    const { H, d, T } = geometry(spec);
    const last = spec.arch.numLayers - 1;
    const edits = [attentionBiasAt(last, H, d, T, 1)];
    const slot: AttentionBiasValues = { kind: 'attention-bias', key: new Float32Array(H * d).fill(0.5), value: new Float32Array(H * d).fill(2), logit: Float32Array.of(0) };
    const original = await outputs(spec, []);
    const edited = await outputs(spec, edits, [slot]);
    expect(edited.logits.data).not.toEqual(original.logits.data);
    // The keys exposed are the block's own, computed before the slot.
    const identity = await outputs(spec, edits);
    expect(edited[`blocks.${last}.attn.keys`].data).toEqual(identity[`blocks.${last}.attn.keys`].data);
  });

  it('refuses a block the model does not have', async () => {
    const spec = loadModel(fixtureModel('tiny-vit-op14'));
    const { H, d, T } = geometry(spec);
    await expect(outputs(spec, [attentionBiasAt(spec.arch.numLayers, H, d, T)])).rejects.toThrow(/Block 4: no single attention Softmax/);
    expect(() => attentionBiasAt(-1, H, d, T)).toThrow(/numbered 0, 1, 2/);
  });
});
