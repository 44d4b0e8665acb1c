/**
 * Preprocessing against golden tensors computed independently with PIL + numpy, following HF's
 * ViTImageProcessor / CLIPImageProcessor math (fixtures/generate.py). sharp's cubic kernel is not
 * bit-identical to Pillow's bicubic, so the comparison is in uint8 levels: measured here at a mean of
 * ~0.2 levels and a maximum of 2–6 levels on sharp edges (README, "Preprocessing").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { preprocessImage } from '../../src/images/preprocess.js';
import { parsePreprocessor, type PreprocessSpec } from '../../src/model/preprocessor.js';
import { FIXTURES, IMAGES } from '../helpers/env.js';

const dir = join(FIXTURES, 'preprocess');
const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { configs: Record<string, Record<string, unknown>>; files: { file: string; image: string }[] };

function golden(file: string): Float32Array {
  const b = readFileSync(join(dir, file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Differences in uint8 levels of the original image (one level = 1 / (255·std) after normalisation). */
function levels(a: Float32Array, b: Float32Array, spec: PreprocessSpec): { mean: number; max: number } {
  const plane = a.length / 3;
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) * spec.std[Math.floor(i / plane)] * 255;
    sum += d;
    max = Math.max(max, d);
  }
  return { mean: sum / a.length, max };
}

describe.each(meta.files.map((f) => [f.file, f] as const))('preprocessing %s', (_, f) => {
  const configName = f.file.split('.')[1];
  const spec = parsePreprocessor(meta.configs[configName], configName === 'vit' ? 'vit' : 'clip_vision_model');

  it('matches the PIL reference within a fraction of a uint8 level on average', async () => {
    const img = await preprocessImage(readFileSync(join(IMAGES, f.image)), spec);
    const ref = golden(f.file);
    expect(img.pixels.length).toBe(3 * 224 * 224);
    const d = levels(img.pixels, ref, spec);
    expect(d.mean).toBeLessThan(0.35);
    expect(d.max).toBeLessThan(8);
  });

  it('is sensitive to geometry: a one-pixel shift of the crop would be caught', async () => {
    const img = await preprocessImage(readFileSync(join(IMAGES, f.image)), spec);
    const ref = golden(f.file);
    const shifted = new Float32Array(ref.length);
    for (let i = 0; i < ref.length; i++) shifted[i] = ref[i % 224 === 223 ? i : i + 1];
    expect(levels(img.pixels, shifted, spec).mean).toBeGreaterThan(2 * levels(img.pixels, ref, spec).mean);
  });
});
