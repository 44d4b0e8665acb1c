/**
 * Odd-but-valid images must not only "scan": they must give the tensor the model should see. Real sharp,
 * compared against the plain 8-bit RGB encode of the same pixels.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { preprocessImage } from '../../src/images/preprocess.js';
import { walkImages } from '../../src/images/walk.js';
import { loadModel } from '../../src/model/load.js';
import type { PreprocessSpec } from '../../src/model/preprocessor.js';
import { fixtureModel, tempDir } from '../helpers/env.js';
import { animated, blockPattern, floatTiff, H, orientStored, png, raw, srgbToLinear, W, type RawImage } from '../helpers/hostile-images.js';

let spec: PreprocessSpec;
let reference: Float32Array;
/** One 8-bit level after the fixture's normalisation (mean 0.5, std 0.5): 1/255/0.5. */
const LEVEL = 2 / 255;

const tensor = async (bytes: Buffer, s: PreprocessSpec = spec) => (await preprocessImage(bytes, s)).pixels;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function meanAbsDiff(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s / a.length;
}

beforeAll(async () => {
  spec = loadModel(fixtureModel('tiny-vit-op14')).preprocess;
  reference = await tensor(await png());
});

describe('EXIF orientation: all 8 orientations give the upright tensor', () => {
  /*
   * Why JPEG can be compared this tightly: the test image is made of flat 8×8 blocks aligned to the JPEG
   * grid (64×48, so every rotation/flip keeps them aligned), encoded at quality 100 with 4:4:4 chroma. A
   * flat block has only a DC coefficient and q100's quantiser is 1, so the JPEG round trip is within a
   * level or two of lossless. On top of that closeness, the test proves orientation: each tensor is far
   * closer to the upright image than to any of the 7 wrongly oriented ones.
   */
  const upright: RawImage = { data: blockPattern(), width: W, height: H };
  const encodeJpeg = (img: RawImage, orientation?: number) => {
    const s = sharp(img.data, raw(img.width, img.height)).jpeg({ quality: 100, chromaSubsampling: '4:4:4' });
    return (orientation ? s.withMetadata({ orientation }) : s).toBuffer();
  };

  it('orientation n stored with EXIF n matches upright and no wrong orientation', async () => {
    // The 8 ways to show the picture (what a reader that ignored or misread EXIF would feed the model).
    const wrong: Float32Array[] = [];
    for (let n = 1; n <= 8; n++) {
      const s = await orientStored(upright, n);
      wrong.push(await tensor(await sharp(s.data, raw(s.width, s.height)).png().toBuffer()));
    }
    const uprightJpeg = await tensor(await encodeJpeg(upright));
    expect(maxAbsDiff(uprightJpeg, reference)).toBeLessThanOrEqual(2 * LEVEL + 1e-6);
    for (let n = 1; n <= 8; n++) {
      const stored = await orientStored(upright, n);
      const t = await tensor(await encodeJpeg(stored, n));
      const toUpright = meanAbsDiff(t, uprightJpeg);
      const toWrong = Math.min(...wrong.slice(1).map((w) => meanAbsDiff(t, w)));
      expect(maxAbsDiff(t, uprightJpeg), `orientation ${n}`).toBeLessThanOrEqual(2 * LEVEL);
      expect(toUpright * 50, `orientation ${n}: ${toUpright} vs wrong ${toWrong}`).toBeLessThan(toWrong);
    }
  });
});

describe('bit depths, colour spaces and frames', () => {
  it('16-bit RGB PNG equals the 8-bit image (within one level)', async () => {
    const u16 = Uint16Array.from(blockPattern(), (v) => v * 257);
    const t = await tensor(await sharp(u16, raw()).toColourspace('rgb16').png().toBuffer());
    expect(maxAbsDiff(t, reference)).toBeLessThanOrEqual(LEVEL + 1e-6);
  });

  it('HDR/float32 TIFF (linear scRGB) is converted to sRGB, not cast to black', async () => {
    const t = await tensor(floatTiff(W, H, Float32Array.from(blockPattern(), srgbToLinear)));
    expect(maxAbsDiff(t, reference)).toBeLessThanOrEqual(2 * LEVEL);
  });

  it('grayscale with alpha drops alpha (as PIL convert("RGB")) and repeats the gray in R, G, B', async () => {
    const gray = Buffer.from(Array.from({ length: W * H }, (_, i) => (i * 7) % 256));
    const ga = Buffer.alloc(W * H * 2);
    for (let i = 0; i < W * H; i++) [ga[2 * i], ga[2 * i + 1]] = [gray[i], i % 256];
    const t = await tensor(await sharp(ga, raw(W, H, 2)).toColourspace('b-w').png().toBuffer());
    const plain = await tensor(await sharp(gray, raw(W, H, 1)).toColourspace('b-w').png().toBuffer());
    expect(maxAbsDiff(t, plain)).toBe(0);
    const plane = t.length / 3;
    expect(maxAbsDiff(t.subarray(0, plane), t.subarray(plane, 2 * plane))).toBe(0);
  });

  it('palette PNG of a 48-colour image is exact', async () => {
    const t = await tensor(await sharp(blockPattern(), raw()).png({ palette: true, dither: 0 }).toBuffer());
    expect(maxAbsDiff(t, reference)).toBeLessThanOrEqual(LEVEL + 1e-6);
  });

  it('animated GIF and WebP give their first frame', async () => {
    const flat = await tensor(await png(Buffer.alloc(W * H * 3, 200)));
    for (const format of ['gif', 'webp'] as const) {
      const t = await tensor(await animated(format));
      expect(maxAbsDiff(t, reference), format).toBeLessThanOrEqual(LEVEL + 1e-6);
      expect(meanAbsDiff(t, flat), format).toBeGreaterThan(0.2);
    }
  });

  it('CMYK JPEG is converted to RGB close to the original colours', async () => {
    const t = await tensor(await sharp(blockPattern(), raw()).toColourspace('cmyk').jpeg({ quality: 100 }).toBuffer());
    // CMYK→RGB without an embedded profile goes through libvips' default CMYK profile: close, not exact.
    expect(meanAbsDiff(t, reference)).toBeLessThan(0.15);
  });
});

describe('sizes', () => {
  const shortest: PreprocessSpec = { ...loadSpec('tiny-dinov2-reg-op14') };

  it('a 1×20000 image is resized then center-cropped without materialising the huge resize', async () => {
    const tall = await sharp({ create: { width: 1, height: 20000, channels: 3, background: '#808080' } }).png().toBuffer();
    const t = await preprocessImage(tall, shortest);
    expect(t.pixels.length).toBe(3 * shortest.height * shortest.width);
    expect([t.width, t.height]).toEqual([1, 20000]);
  });

  it('an aspect ratio libvips cannot resize is a specific error, not a crash', async () => {
    const big = { ...shortest, resize: { kind: 'shortest_edge' as const, edge: 256 } };
    const sliver = await sharp({ create: { width: 3, height: 1_000_000, channels: 3, background: '#808080' } }).png().toBuffer();
    await expect(preprocessImage(sliver, big)).rejects.toThrow(/^extreme aspect ratio/);
  });
});

describe('file names the walk must not lose', () => {
  it('reads a non-UTF-8 file name (byte path), and shows invalid bytes as \\xHH', async () => {
    const root = tempDir('hostile-walk');
    const okPng = await png();
    writeFileSync(Buffer.concat([Buffer.from(`${root}/caf`), Buffer.from([0xe9]), Buffer.from('.png')]), okPng);
    writeFileSync(join(root, 'caf\\xE9.png'), okPng); // a real name that looks like the escape
    const { entries, errors } = await walkImages(root);
    expect(errors).toEqual([]);
    expect(entries.map((e) => e.path)).toEqual(['caf\\xE9.png', 'caf\\xE9.png (non-UTF-8 name)']);
    for (const e of entries) expect(readFileSync(e.file).equals(okPng)).toBe(true);
  });

  it('never walks into the scan output folder when it lies inside the image folder', async () => {
    const root = tempDir('hostile-walk');
    writeFileSync(join(root, 'a.png'), await png());
    mkdirSync(join(root, 'out'));
    writeFileSync(join(root, 'out', 'figure.png'), await png());
    const { entries } = await walkImages(root, { exclude: [join(root, 'out')] });
    expect(entries.map((e) => e.path)).toEqual(['a.png']);
  });
});

function loadSpec(name: string): PreprocessSpec {
  return loadModel(fixtureModel(name)).preprocess;
}
