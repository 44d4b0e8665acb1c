/**
 * Test-time register on the real ViT-Ti (skipped without $MASSIVIT_MODELS_DIR): the massive dim leaves the
 * patch tokens for the register, the outputs stay within the measured agreement (README, "Test-time
 * registers": 0.882 top-1, mean KL 0.106 on the 17 sample photos; asserted with a margin), and the identity
 * (no neurons) reproduces the original outputs bit for bit.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { layerHook } from '../../src/contracts/hooks.js';
import { loadModel } from '../../src/model/load.js';
import { registersAdd, registersFind } from '../../src/pipelines/registers.js';
import { forEachBatch, imageSet } from '../../src/pipelines/registers/images.js';
import { openRunner } from '../../src/run/runner.js';
import { IMAGES, realVitTiny, tempDir } from '../helpers/env.js';

const vit = realVitTiny();
const run = { device: 'cpu' as const, threads: 1 };

/** Per token, the largest |a| over the images at `layer`, and the dim of the largest cell overall. */
async function largestCells(model: string, layer: number, dim?: number): Promise<{ dim: number; byToken: Float32Array }> {
  const spec = loadModel(model);
  const hook = layerHook(layer);
  const runner = await openRunner(spec, { expose: [hook] }, run);
  const T = spec.tokens.sequenceLength;
  const D = spec.arch.hiddenSize;
  const byCell = new Float32Array(T * D);
  try {
    await forEachBatch(await imageSet(IMAGES), spec.preprocess, 8, false, async (pixels) => {
      const x = (await runner.run(pixels))[hook].data as Float32Array;
      for (let i = 0; i < x.length; i++) byCell[i % (T * D)] = Math.max(byCell[i % (T * D)], Math.abs(x[i]));
    });
  } finally {
    await runner.close();
  }
  const d = dim ?? byCell.indexOf(Math.max(...byCell)) % D;
  return { dim: d, byToken: Float32Array.from({ length: T }, (_, t) => byCell[t * D + d]) };
}

describe.skipIf(!vit)('test-time register on the real ViT-Ti', () => {
  const dir = tempDir('ttr-vit');
  const out = join(dir, 'vit-tiny-ttr');

  it('finds a few sparse register neurons before the detection layer and moves the massive dim into the register', async () => {
    const found = await registersFind({ model: vit!, images: IMAGES, out: join(dir, 'neurons.json'), ...run });
    const f = found.file;
    expect(f.neurons.length).toBeGreaterThan(0);
    expect(f.neurons.length).toBeLessThanOrEqual(5);
    for (const n of f.neurons) {
      expect(n.block).toBeLessThan(f.detection.layer);
      expect(n.ratio === null || n.ratio >= 100).toBe(true);
    }
    const added = await registersAdd({ model: vit!, neurons: join(dir, 'neurons.json'), out, images: IMAGES, ...run });
    // The agreement measured for the README, with a margin.
    expect(added.closeness!.top1Agreement!).toBeGreaterThanOrEqual(0.8);
    expect(added.closeness!.meanKL!).toBeLessThan(0.15);
    const layer = f.detection.layer + 1;
    const before = await largestCells(vit!, layer);
    const after = await largestCells(out, layer, before.dim);
    // Before: the massive cell sits in patch tokens (index ≥ 1); after: in the register (1), patches ordinary.
    const beforeTop = before.byToken.indexOf(Math.max(...before.byToken));
    expect(beforeTop).toBeGreaterThanOrEqual(1);
    expect(before.byToken[beforeTop]).toBeGreaterThan(300);
    const afterTop = after.byToken.indexOf(Math.max(...after.byToken));
    expect(afterTop).toBe(1);
    expect(after.byToken[1]).toBeGreaterThan(300);
    expect(Math.max(...after.byToken.subarray(2))).toBeLessThan(0.2 * after.byToken[1]);
    expect(loadModel(out).tokens).toMatchObject({ registers: [1], patchStart: 2, sequenceLength: 198 });
  });

  it('with no neurons reproduces the original outputs exactly (no token is added)', async () => {
    const none = join(dir, 'identity');
    const source = loadModel(vit!);
    const file = { ...(await registersFind({ model: source, images: IMAGES, out: join(dir, 'n0.json'), limit: 2, report: false, ...run })).file, neurons: [] };
    const added = await registersAdd({ model: source, neurons: file, out: none, images: IMAGES, ...run });
    expect(added.closeness).toMatchObject({ identical: true, top1Agreement: 1, meanKL: 0, maxKL: 0 });
    expect(added.sha256).toBe(source.sha256);
    expect(loadModel(none).tokens.registers).toEqual([]);
  });
});
