/**
 * Thumbnails of the top images as the model saw them (resized and cropped exactly like preprocessing),
 * with the patches holding massive activations (or near-misses) outlined, composited with sharp and
 * inlined as data: URIs so the report stays one file.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { errorMessage } from '../errors.js';
import { resizeTarget } from '../images/preprocess.js';
import type { PreprocessSpec } from '../model/preprocessor.js';
import type { TopImage } from '../store/reads.js';

export const THUMB_SIZE = 256;

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

/** The photo as the model saw it (uint8 RGB, before normalisation), at the model's input size. */
async function modelView(bytes: Buffer, o: ThumbOptions): Promise<ReturnType<typeof sharp>> {
  const options = { limitInputPixels: o.maxPixels ?? 100_000_000, pages: 1, failOn: 'error' as const };
  const [h, w] = o.inputSize;
  const base = sharp(bytes, options).rotate().removeAlpha().toColourspace('srgb');
  const spec = o.preprocess;
  if (!spec) return base.resize(w, h, { fit: 'fill' });
  const meta = await sharp(bytes, options).metadata();
  const swap = (meta.orientation ?? 1) >= 5;
  const [uw, uh] = swap ? [meta.height ?? h, meta.width ?? w] : [meta.width ?? w, meta.height ?? h];
  const target = resizeTarget(spec, uw, uh);
  let p = base.resize(target.width, target.height, { fit: 'fill' });
  if (spec.crop) {
    const { height, width } = spec.crop;
    p = sharp(await p.toBuffer()).extract({ left: Math.floor((target.width - width) / 2), top: Math.floor((target.height - height) / 2), width, height });
  }
  return p;
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
    bytes = await readFile(join(o.imagesRoot, image.path));
  } catch (err) {
    return { image, missing: `photo not found at ${join(o.imagesRoot, image.path)} (${errorMessage(err).split(':')[0]})` };
  }
  try {
    const view = await (await modelView(bytes, o)).png().toBuffer();
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
