/**
 * Token norms and attention sinks on the real ViT-Ti/16 over the 17 sample photos. From layer 8 the four
 * corner patch tokens (1, 14, 183, 196) hold the dim-41 activations (≈ −450…−570); their L2 norms are then
 * ≈ 450–580 while every other token stays below ≈ 60, so the paper's fixed threshold of 150 catches exactly
 * those four, and from block 8 on the attention of every head concentrates on them.
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { imageMap } from '../../src/pipelines/map.js';
import type { ScanJson } from '../../src/outputs/scan-json.js';
import { realVitTiny, tempDir } from '../helpers/env.js';
import { SHARED_SCAN_TIMEOUT, sharedVitTinyScan } from '../helpers/shared-scan.js';

const model = realVitTiny();
const CORNERS: [number, number][] = [[0, 0], [0, 13], [13, 0], [13, 13]];

describe.skipIf(!model)('norms and attention on the real ViT-Ti/16', () => {
  let s: ScanJson;
  let out: string;
  let maps: string; // the maps go beside, not into, the shared scan folder
  beforeAll(async () => {
    ({ outDir: out, summary: s } = await sharedVitTinyScan(model!));
    maps = tempDir('norms-vit');
  }, SHARED_SCAN_TIMEOUT);

  it('no token passes 150 before layer 8; from layer 8 the high-norm tokens are the four corners, on the border only', () => {
    for (const l of s.norms!.layers) {
      if (l.layer < 8) {
        expect(l.fixed.share).toBe(0);
        continue;
      }
      expect(l.fixed.share).toBeGreaterThan(0.019); // ≈ 4 / 196 per image
      expect(l.fixed.share).toBeLessThanOrEqual(4 / 196);
      expect(l.fixed.images).toBe(17);
      expect(l.fixed.centre).toBe(0);
      expect(l.fixed.border!).toBeGreaterThan(0.07); // ≈ 4 / 52
      const grid = l.fixed.grid!;
      const hot = grid.flatMap((row, r) => row.map((v, c) => [r, c, v] as const)).filter(([, , v]) => v > 0);
      expect(hot.map(([r, c]) => [r, c])).toEqual(CORNERS);
      expect(l.fixed.cls).toBe(0);
    }
  });

  it('the automatic threshold (mean + 3 sd) agrees with 150 once the corner tokens exist', () => {
    for (const l of s.norms!.layers.filter((x) => x.layer >= 8)) {
      expect(l.auto.threshold).toBeGreaterThan(150);
      expect(l.auto.share).toBeCloseTo(l.fixed.share, 2);
    }
  });

  it('the norm histogram is bimodal from layer 8: a gap between the bulk and the corner tokens', () => {
    const edges = s.norms!.binEdges;
    const l = s.norms!.layers.find((x) => x.layer === 9)!;
    const occupied = l.histogram.patch.map((n, k) => (n > 0 ? k : -1)).filter((k) => k >= 0);
    const gaps = occupied.slice(1).filter((k, i) => k - occupied[i] > 1);
    expect(gaps.length).toBeGreaterThan(0);
    // Above the first gap sit exactly the four corner tokens of every image, and nothing below 100.
    const gapStart = gaps[0];
    const upper = occupied.filter((k) => k >= gapStart);
    expect(upper.reduce((a, k) => a + l.histogram.patch[k], 0)).toBe(17 * 4);
    expect(edges[gapStart]).toBeGreaterThan(100);
  });

  it('from block 8 most attention goes to the corner tokens, far above the uniform share', () => {
    const a = s.attention!;
    expect(a.sinkTokens.map(([t]) => t)).toEqual([1, 14, 183, 196]);
    expect(a.sinkKinds.none).toBe(0);
    for (const b of a.blocks) expect(b.baseline).toBeCloseTo(4 / 197, 6);
    const early = a.blocks.filter((b) => b.block < 7);
    const late = a.blocks.filter((b) => b.block >= 8);
    for (const b of late) {
      expect(b.sinkShare).toBeGreaterThan(10 * b.baseline);
      for (const h of b.heads) expect(h.sinkShare).toBeGreaterThan(5 * b.baseline);
    }
    for (const b of early) expect(b.sinkShare).toBeLessThan(3 * b.baseline);
  });

  it('draws one image’s norm map and CLS attention map over the photo', async () => {
    const png = join(maps, 'chelsea-norms-9.png');
    const norms = await imageMap({ scanDir: out, image: 'chelsea.png', layer: 9, out: png });
    expect(norms.grid).toHaveLength(14);
    for (const [r, c] of CORNERS) expect(norms.grid[r][c]).toBeGreaterThan(150);
    expect(norms.grid[7][7]).toBeLessThan(150);
    const meta = await sharp(png).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 448, 448]);
    const attn = await imageMap({ scanDir: out, image: 'chelsea.png', layer: 10, kind: 'attention', out: join(maps, 'chelsea-attn-10.png') });
    const flat = attn.grid.flat();
    expect(flat.reduce((x, y) => x + y, 0) + attn.cls).toBeCloseTo(1, 4); // a head-mean attention row
    expect(Math.max(...flat)).toBe(Math.max(...CORNERS.map(([r, c]) => attn.grid[r][c])));
  });

  it('names the problem when the image or the attention rows are missing', async () => {
    await expect(imageMap({ scanDir: out, image: 'no-such.png', layer: 9 })).rejects.toThrow(/No norm values for image 'no-such.png'/);
    await expect(imageMap({ scanDir: out, image: 'chelsea.png', layer: 99 })).rejects.toThrow(/--layer/);
  });
});
