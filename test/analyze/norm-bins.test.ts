/** The pieces the norm statistics are built from: fixed log-spaced bins, the border ring, the patch grid. */
import { describe, expect, it } from 'vitest';
import { isBorder, NORM_BIN_EDGES, normBin, patchGrid } from '../../src/analyze/norms.js';
import { tokenLayout } from '../../src/model/layout.js';

describe('norm histogram bins', () => {
  it('has 48 log-spaced bins, 8 per decade, from 0.1 to 1e5', () => {
    expect(NORM_BIN_EDGES).toHaveLength(49);
    expect(NORM_BIN_EDGES[0]).toBeCloseTo(0.1, 12);
    expect(NORM_BIN_EDGES[48]).toBeCloseTo(1e5, 6);
    expect(NORM_BIN_EDGES[8] / NORM_BIN_EDGES[0]).toBeCloseTo(10, 10);
  });

  it('puts a norm in the bin whose edges surround it, clamping outside the range', () => {
    for (const n of [0.15, 1, 9.9, 20, 150, 450, 580, 12345]) {
      const k = normBin(n);
      expect(NORM_BIN_EDGES[k]).toBeLessThanOrEqual(n * (1 + 1e-12));
      expect(NORM_BIN_EDGES[k + 1]).toBeGreaterThan(n);
    }
    expect(normBin(0)).toBe(0);
    expect(normBin(Number.NaN)).toBe(0);
    expect(normBin(1e9)).toBe(47);
  });
});

describe('token layout helpers', () => {
  const vit = tokenLayout({ family: 'vit', numLayers: 12, hiddenSize: 192, numHeads: 3, patchSize: 16, imageSize: 224, numRegisters: 0 }, 224, 224);
  const reg = tokenLayout({ family: 'dinov2_with_registers', numLayers: 4, hiddenSize: 32, numHeads: 2, patchSize: 8, imageSize: 48, numRegisters: 4 }, 48, 48);

  it('the border is the outermost ring of patches: 52 of the 196 ViT-Ti patches', () => {
    const border = Array.from({ length: vit.sequenceLength }, (_, t) => isBorder(vit, t)).filter(Boolean).length;
    expect(border).toBe(4 * 14 - 4);
    expect(isBorder(vit, 0)).toBe(false); // CLS
    expect([1, 14, 183, 196].every((t) => isBorder(vit, t))).toBe(true); // the four corners
    expect(isBorder(vit, 1 + 14 + 1)).toBe(false); // row 1, col 1
    expect(isBorder(reg, 3)).toBe(false); // a register
  });

  it('patchGrid drops CLS and registers and keeps row-major order', () => {
    const values = Array.from({ length: reg.sequenceLength }, (_, t) => t);
    const grid = patchGrid(values, reg);
    expect(grid).toHaveLength(6);
    expect(grid[0][0]).toBe(5);
    expect(grid[1][0]).toBe(11);
    expect(grid[5][5]).toBe(reg.sequenceLength - 1);
  });
});
