/**
 * Thumbnails of the top images as the model saw them (images/model-view.ts, the same path as preprocessing),
 * with the patches holding massive activations (or near-misses) outlined, composited with sharp and
 * inlined as data: URIs so the report stays one file.
 */
import { join } from 'node:path';
import sharp from 'sharp';
import { errorMessage } from '../contracts/errors.js';
import { describeImageError } from '../images/decode-error.js';
import { DEFAULT_LIMITS, modelViewImage } from '../images/model-view.js';
import { readStoredImage } from '../images/read.js';
import type { PreprocessSpec } from '../model/preprocessor.js';
import type { TopImage } from '../store/reads.js';

const THUMB_SIZE = 256;

export interface Thumbnail {
  image: TopImage;
  /** data:image/jpeg;base64,… or undefined when the photo could not be read (see `missing`). */
  dataUri?: string;
  missing?: string;
}

export interface ThumbOptions {
  imagesRoot: string;
  /** The scan's preprocessing; without it the photo is stretched to the input size. */
  preprocess?: PreprocessSpec;
  inputSize: [number, number];
  patchGrid: [number, number];
  color: string;
  maxPixels?: number;
}

/**
 * A scan without recorded preprocessing (an old store, no --model): the photo stretched to the input
 * size, through the same model-view path as everything else.
 */
function stretchTo([height, width]: [number, number]): PreprocessSpec {
  return { processor: 'unknown', resize: { kind: 'exact', height, width }, crop: null, resample: 'lanczos', rescale: null, mean: [0, 0, 0], std: [1, 1, 1], height, width };
}

function outlineSvg(image: TopImage, o: ThumbOptions, width: number, height: number): string {
  const [rows, cols] = o.patchGrid;
  const [ph, pw] = [height / rows, width / cols];
  const rects = image.patches
    .map(([r, c]) => `<rect x="${c * pw + 1}" y="${r * ph + 1}" width="${pw - 2}" height="${ph - 2}" fill="none" stroke="${o.color}" stroke-width="2.5"/>` +
      `<rect x="${c * pw}" y="${r * ph}" width="${pw}" height="${ph}" fill="none" stroke="#ffffff" stroke-width="0.8"/>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${rects}</svg>`;
}

export async function thumbnail(image: TopImage, o: ThumbOptions): Promise<Thumbnail> {
  let bytes: Buffer;
  try {
    bytes = await readStoredImage(o.imagesRoot, image.path);
  } catch (err) {
    const at = join(o.imagesRoot, image.path);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { image, missing: `photo not found at ${at} (ENOENT)` };
    return { image, missing: `cannot read the photo at ${at}: ${describeImageError(err)}` };
  }
  try {
    const spec = o.preprocess ?? stretchTo(o.inputSize);
    const view = await (await modelViewImage(bytes, spec, { maxPixels: o.maxPixels ?? DEFAULT_LIMITS.maxPixels })).png().toBuffer();
    const [h, w] = o.inputSize;
    const scale = THUMB_SIZE / Math.max(h, w);
    const [tw, th] = [Math.round(w * scale), Math.round(h * scale)];
    const jpeg = await sharp(view)
      .resize(tw, th, { fit: 'fill', kernel: 'lanczos3' })
      .composite([{ input: Buffer.from(outlineSvg(image, o, tw, th)), top: 0, left: 0 }])
      .jpeg({ quality: 82, mozjpeg: true })
      .toBuffer();
    return { image, dataUri: `data:image/jpeg;base64,${jpeg.toString('base64')}` };
  } catch (err) {
    return { image, missing: `cannot draw the photo: ${errorMessage(err).split('\n')[0]}` };
  }
}

export async function thumbnails(images: TopImage[], o: ThumbOptions): Promise<Thumbnail[]> {
  const out: Thumbnail[] = [];
  for (const image of images) out.push(await thumbnail(image, o)); // sequential: sharp already uses every core
  return out;
}
