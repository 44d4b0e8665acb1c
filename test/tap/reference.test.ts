/**
 * The graph tap must return exactly the reference framework's hidden states. Each fixture was built
 * from hand-written PyTorch modules that mirror Hugging Face's ViT / DINOv2 / DINOv2-reg / CLIP code
 * (fixtures/hf_modules.py) and exported with torch.onnx at opset 14 and 17. Its reference/ folder holds
 * torch's hidden_states, attention probabilities and outputs for a fixed input.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attnPattern, layerHook, type HookName } from '../../src/contracts/hooks.js';
import { loadModel } from '../../src/model/load.js';
import { ort } from '../../src/run/session.js';
import { applyTap, byOutputName, sessionFetches } from '../../src/tap/plan.js';
import { fixtureModel } from '../helpers/env.js';

interface Meta {
  pixelShape: number[];
  hiddenStates: { shape: number[]; file: string };
  attentions: { shape: number[]; file: string };
  outputs: Record<string, { shape: number[]; file: string }>;
}

const FIXTURES = [
  ['tiny-vit-op14', 'decomposed'],
  ['tiny-vit-op17', 'LayerNormalization'],
  ['tiny-dinov2-op14', 'decomposed'],
  ['tiny-dinov2-op17', 'LayerNormalization'],
  ['tiny-dinov2-reg-op14', 'decomposed'],
  ['tiny-dinov2-reg-op17', 'LayerNormalization'],
  ['tiny-clip-vision-op14', 'decomposed'],
  ['tiny-clip-op17', 'LayerNormalization'],
] as const;

function readF32(path: string): Float32Array {
  const buf = readFileSync(path);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/**
 * Largest |a − b| relative to max(1, |b|): tolerant of float reordering (ORT and torch sum in different
 * orders; the planted detector units have steep ramps that amplify that to ~1e-4), not of a wrong tensor
 * (a neighbouring hook differs by O(0.1–1000)).
 */
function maxRelDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}

describe.each(FIXTURES)('graph tap on %s', (name, layerNormKind) => {
  const dir = fixtureModel(name);
  const present = existsSync(join(dir, 'reference', 'meta.json'));
  it.skipIf(!present)('equals the reference hidden states, attention and outputs', async () => {
    const spec = loadModel(dir);
    const meta = JSON.parse(readFileSync(join(dir, 'reference', 'meta.json'), 'utf8')) as Meta;
    const [numHidden, batch, tokens, dims] = meta.hiddenStates.shape;
    const blocks = numHidden - 1;
    expect(spec.hooks.numBlocks).toBe(blocks);
    expect(spec.hooks.layerNormKind).toBe(layerNormKind);
    expect(spec.tokens.sequenceLength).toBe(tokens);
    const full: HookName[] = [...Array.from({ length: numHidden }, (_, l) => layerHook(l)), ...Array.from({ length: blocks }, (_, b) => attnPattern(b))];
    const tap = applyTap(spec.bytes, { expose: full, keepOutputs: true });
    const session = await ort.InferenceSession.create(tap.bytes);
    const pixels = new ort.Tensor('float32', readF32(join(dir, 'reference', 'pixel_values.bin')), meta.pixelShape);
    const out = byOutputName(tap, await session.run({ pixel_values: pixels }, sessionFetches(tap)));

    const hidden = readF32(join(dir, 'reference', meta.hiddenStates.file));
    const perLayer = batch * tokens * dims;
    for (let l = 0; l < numHidden; l++) {
      const tapped = out[layerHook(l)];
      expect(tapped.dims).toEqual([batch, tokens, dims]);
      expect(maxRelDiff(tapped.data as Float32Array, hidden.subarray(l * perLayer, (l + 1) * perLayer)), `layer ${l}`).toBeLessThan(5e-4);
    }
    const attn = readF32(join(dir, 'reference', meta.attentions.file));
    const perBlock = attn.length / blocks;
    for (let b = 0; b < blocks; b++) {
      expect(maxRelDiff(out[attnPattern(b)].data as Float32Array, attn.subarray(b * perBlock, (b + 1) * perBlock)), `block ${b} attention`).toBeLessThan(1e-4);
    }
    for (const [output, info] of Object.entries(meta.outputs)) {
      expect(maxRelDiff(out[output].data as Float32Array, readF32(join(dir, 'reference', info.file))), output).toBeLessThan(5e-4);
    }
    await session.release();
  });
});
