/** The batch a scan runs and the cost it states up front, for ViT-G-sized models (no model is run here). */
import { describe, expect, it } from 'vitest';
import { loadModel, type ModelSpec } from '../../src/model/load.js';
import { tokenLayout } from '../../src/model/layout.js';
import { AUTO_BATCH_BYTES, chooseBatch, costNotice, hiddenBytesPerImage, speedNotice } from '../../src/run/cost.js';
import { fixtureModel } from '../helpers/env.js';

/** The tiny fixture's spec with DINOv2-reg ViT-G/14 numbers (40 blocks, width 1536, 4 registers) at `size` px. */
function vitG(size: number, extra: Partial<ModelSpec> = {}): ModelSpec {
  const base = loadModel(fixtureModel('tiny-dinov2-reg-op17'));
  const arch = { ...base.arch, numLayers: 40, hiddenSize: 1536, numHeads: 24, patchSize: 14, imageSize: size, numRegisters: 4 };
  return { ...base, name: 'vit-g', arch, tokens: tokenLayout(arch, size, size), weightBytes: 4.5e9, ...extra };
}

describe('batch and cost up front', () => {
  it('keeps 8 when one batch fits and lowers it at 518 px, where one image sends 41 × 1374 × 1536 floats', () => {
    expect(chooseBatch(undefined, vitG(224), 41)).toEqual({ batch: 8, notices: [] });
    const at518 = vitG(518);
    expect(at518.tokens.sequenceLength).toBe(1 + 4 + 37 * 37);
    expect(hiddenBytesPerImage(at518, 41)).toBe(41 * 1374 * 1536 * 4);
    const { batch, notices } = chooseBatch(undefined, at518, 41);
    expect(batch).toBe(Math.floor(AUTO_BATCH_BYTES / (41 * 1374 * 1536 * 4))); // 3
    expect(notices[0]).toMatch(/^batch 3 chosen .* \(pass --batch to override\)$/);
    expect(chooseBatch(16, at518, 41)).toEqual({ batch: 16, notices: [] }); // the user's choice stands (checkBatchMemory bounds it)
  });

  it('runs a fixed-batch graph at its batch, saying so once', () => {
    expect(chooseBatch(undefined, vitG(224, { fixedBatch: 1 }), 41)).toEqual({ batch: 1, notices: ["the model's input has a fixed batch size of 1: running 1 image per forward pass"] });
    expect(chooseBatch(8, vitG(224, { fixedBatch: 1 }), 41).notices).toEqual([expect.stringMatching(/--batch 8 ignored/)]);
  });

  it('states weights and hidden-state memory for a big model, nothing for a small one', () => {
    // 2 batches held (one analysed while the next runs) × 8 × 41 × 261 × 1536 × 4 bytes = 1003 MiB
    expect(costNotice(vitG(224), 41, 8)).toBe('vit-g: 4.2 GiB of fp32 weights + about 1003 MiB of hidden states for batches of 8 (261 tokens × 1536 dims × 41 layers); the time per image follows the first batch');
    expect(costNotice(loadModel(fixtureModel('tiny-dinov2-reg-op17')), 5, 8)).toBeUndefined();
    expect(speedNotice(12, 4, 1000)).toBe('first batch: 3.0 s per image; about 50 min for 1000 images');
  });
});
