/**
 * The model's input tensor: the image as the model sees it (model-view.ts: EXIF orientation, RGB, the
 * processor's resize kernel, center crop, pixel limit), then rescale → normalize → float32 CHW.
 */
import type { PreprocessSpec } from '../model/preprocessor.js';
import { DEFAULT_LIMITS, modelView, type DecodeLimits } from './model-view.js';

export interface PreprocessedImage {
  /** float32 [3, height, width] */
  pixels: Float32Array;
  /** Upright size of the original image. */
  width: number;
  height: number;
}

/** Any failure becomes a BAD_IMAGE error with a specific one-line reason (see decode-error.ts). */
export async function preprocessImage(input: Buffer, spec: PreprocessSpec, limits: DecodeLimits = DEFAULT_LIMITS): Promise<PreprocessedImage> {
  const { data, channels, width, height } = await modelView(input, spec, limits);
  const plane = spec.width * spec.height;
  const pixels = new Float32Array(3 * plane);
  const rescale = spec.rescale ?? 1;
  for (let c = 0; c < 3; c++) {
    const src = channels === 1 ? 0 : c;
    const scale = rescale / spec.std[c];
    const shift = spec.mean[c] / spec.std[c];
    for (let i = 0; i < plane; i++) pixels[c * plane + i] = data[i * channels + src] * scale - shift;
  }
  return { pixels, width, height };
}
