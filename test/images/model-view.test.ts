/**
 * One "as the model sees it": overlays (maps) and thumbnails draw the same pixels preprocessing
 * normalises — the EXIF rotation, the processor's resize kernel, the crop and the pixel limit — not a
 * look-alike of their own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { modelView } from '../../src/images/model-view.js';
import { renderOverlay } from '../../src/images/overlay.js';
import { preprocessImage } from '../../src/images/preprocess.js';
import { loadModel } from '../../src/model/load.js';
import type { PreprocessSpec } from '../../src/model/preprocessor.js';
import { thumbnail } from '../../src/report/thumbs.js';
import { fixtureModel, IMAGES, tempDir } from '../helpers/env.js';

const MODEL = fixtureModel('synthetic-dinov2');
const bicubic = loadModel(MODEL).preprocess;
const specs: [string, PreprocessSpec][] = [
  ['the fixture processor (bicubic)', bicubic],
  ['a nearest-neighbour processor', { ...bicubic, resample: 'nearest' }],
];

async function photos(): Promise<[string, Buffer][]> {
  const photo = readFileSync(join(IMAGES, 'chelsea.png'));
  const rotated = await sharp(photo).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
  const withAlpha = await sharp(photo).ensureAlpha(0.5).png().toBuffer();
  return [['a JPEG with EXIF orientation 6', rotated], ['a half-transparent PNG', withAlpha]];
}

describe.each(specs)('the model view with %s', (_, spec) => {
  it('is what preprocessing normalises, value for value', async () => {
    for (const [what, photo] of await photos()) {
      const view = await modelView(photo, spec);
      const input = await preprocessImage(photo, spec);
      const plane = spec.width * spec.height;
      let worst = 0;
      for (let c = 0; c < 3; c++) {
        for (let i = 0; i < plane; i++) {
          const level = (input.pixels[c * plane + i] * spec.std[c] + spec.mean[c]) / (spec.rescale ?? 1);
          worst = Math.max(worst, Math.abs(level - view.data[i * view.channels + c]));
        }
      }
      expect(worst, what).toBeLessThan(1e-3);
    }
  });

  it('is what a map is drawn on: an invisible map at scale 1 leaves exactly the model view', async () => {
    for (const [what, photo] of await photos()) {
      const grid = [[0, 1], [2, 3]];
      const png = await renderOverlay(photo, spec, grid, { alpha: 0, scale: 1 });
      const drawn = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const view = await modelView(photo, spec);
      expect([drawn.info.width, drawn.info.height], what).toEqual([spec.width, spec.height]);
      expect(drawn.data.equals(view.data), what).toBe(true);
    }
  });
});

describe('the pixel limit holds for every picture of a photo', () => {
  const limits = { maxPixels: 10_000 };

  it('a map refuses a photo above the limit, naming its declared size', async () => {
    const [[, photo]] = await photos();
    await expect(renderOverlay(photo, bicubic, [[1]], { limits })).rejects.toThrow(/^image too large: it declares \d+×\d+ = \d+ pixels, above the pixel limit of 10000/);
  });

  it('a thumbnail is skipped with the same reason', async () => {
    const root = tempDir('model-view');
    const [[, photo]] = await photos();
    await sharp(photo).toFile(join(root, 'cat.jpg'));
    const image = { path: 'cat.jpg', maxAbs: 1, top: { layer: 0, token: 1, dim: 0, value: 1, role: 'patch' as const }, patches: [], specialTokens: [] };
    const o = { imagesRoot: root, preprocess: bicubic, inputSize: [bicubic.height, bicubic.width] as [number, number], patchGrid: [16, 16] as [number, number], color: '#f00' };
    expect((await thumbnail(image, o)).dataUri).toMatch(/^data:image\/jpeg;base64,/);
    expect((await thumbnail(image, { ...o, maxPixels: limits.maxPixels })).missing).toMatch(/^cannot draw the photo: image too large: it declares/);
  });
});
