/**
 * The image as the model sees it, before normalisation: the one place that decodes a photo and applies
 * the model's processor config — EXIF orientation → RGB (alpha dropped, as PIL's convert("RGB")) →
 * resize with the processor's kernel (uint8) → center crop — under the pixel limit. Preprocessing
 * normalises these pixels into the input tensor; thumbnails, overlays and maps draw them, so a picture
 * in the report shows exactly what was measured. Differences from PIL are documented in the README.
 */
import sharp from 'sharp';
import type { PreprocessSpec, Resample } from '../model/preprocessor.js';
import { badImage, explainDecodeFailure } from './decode-error.js';

type SharpOptions = NonNullable<Parameters<typeof sharp>[1]>;
type Metadata = Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;

export interface DecodeLimits {
  /** sharp's decompression-bomb guard: refuse images with more pixels than this. */
  maxPixels: number;
}

export const DEFAULT_LIMITS: DecodeLimits = { maxPixels: 100_000_000 };

export interface ModelView {
  /** uint8, interleaved (HWC), `channels` per pixel (1 for a grey image, else 3), spec.width × spec.height. */
  data: Buffer;
  channels: number;
  /** Upright size of the original image. */
  width: number;
  height: number;
}

type KernelName = 'nearest' | 'linear' | 'cubic' | 'mitchell' | 'lanczos2' | 'lanczos3';
const KERNEL: Record<Resample, KernelName> = {
  nearest: 'nearest',
  bilinear: 'linear',
  bicubic: 'cubic',
  lanczos: 'lanczos3',
  box: 'linear',
  hamming: 'linear',
};

/** Resize target before cropping, as HF computes it (shortest edge: long side = int(s * long / short)). */
export function resizeTarget(spec: PreprocessSpec, width: number, height: number): { width: number; height: number } {
  const r = spec.resize;
  if (!r) return { width, height };
  if (r.kind === 'exact') return { width: r.width, height: r.height };
  if (width <= height) return { width: r.edge, height: Math.trunc((r.edge * height) / width) };
  return { width: Math.trunc((r.edge * width) / height), height: r.edge };
}

function uprightSize(meta: Metadata): { width: number; height: number } {
  const { width, height, orientation } = meta;
  if (!width || !height) throw new Error('no image dimensions (not an image, or an unsupported format)');
  return orientation && orientation >= 5 ? { width: height, height: width } : { width, height };
}

/**
 * Raster formats only. libvips also renders SVG (and, in some builds, PDF and its own .v format) when the
 * bytes say so, whatever the extension: vector rendering can expand without bound and has no pixels of
 * its own to measure, so such content is refused rather than rasterised at an arbitrary size.
 */
const RASTER_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'avif', 'jp2k', 'jxl']);

/**
 * Upright 8-bit sRGB without alpha, ready to resize. sharp resizes before it drops alpha and before it
 * converts to sRGB: images with alpha are resized premultiplied (transparent pixels bleed black into
 * their neighbours), and float/16-bit/CMYK images are resized in their own space (a float TIFF in linear
 * light). PIL's convert("RGB") converts first and resizes 8-bit sRGB, so such images are materialised
 * as 8-bit sRGB at full size first (one extra copy, only for them; plain 8-bit RGB/gray stream through).
 */
function needsConversionFirst(meta: Metadata): boolean {
  return meta.hasAlpha === true || meta.depth !== 'uchar' || !['srgb', 'b-w', 'rgb'].includes(meta.space ?? '');
}

async function uprightRgb(input: Buffer, options: SharpOptions, meta: Metadata): Promise<ReturnType<typeof sharp>> {
  const rgb = sharp(input, options).rotate().removeAlpha().toColourspace('srgb');
  if (!needsConversionFirst(meta)) return rgb;
  const { data, info } = await rgb.raw().toBuffer({ resolveWithObject: true });
  return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels }, limitInputPixels: options.limitInputPixels });
}

/** Any failure becomes a BAD_IMAGE error with a specific one-line reason (see decode-error.ts). */
export async function modelView(input: Buffer, spec: PreprocessSpec, limits: DecodeLimits = DEFAULT_LIMITS): Promise<ModelView> {
  try {
    return await decodeModelView(input, spec, limits);
  } catch (err) {
    throw explainDecodeFailure(err, input);
  }
}

async function decodeModelView(input: Buffer, spec: PreprocessSpec, limits: DecodeLimits): Promise<ModelView> {
  const options: SharpOptions = { limitInputPixels: limits.maxPixels, pages: 1, failOn: 'error' };
  // The header alone, without the limit, so a bomb's refusal can name its declared size (checked next).
  const meta = await sharp(input, { ...options, limitInputPixels: false }).metadata();
  if (!RASTER_FORMATS.has(meta.format ?? '')) throw badImage(`${String(meta.format).toUpperCase()} content is not a raster image: refused (vector and document formats are not scanned)`);
  // Checked here from the header, so the reason can name the declared size (a bomb is a few bytes).
  if (meta.width && meta.height && meta.width * meta.height > limits.maxPixels) {
    throw badImage(`image too large: it declares ${meta.width}×${meta.height} = ${meta.width * meta.height} pixels, above the pixel limit of ${limits.maxPixels} (decompression-bomb guard, --max-pixels)`);
  }
  const upright = uprightSize(meta);
  const target = resizeTarget(spec, upright.width, upright.height);
  let pipeline = (await uprightRgb(input, options, meta))
    .resize(target.width, target.height, { fit: 'fill', kernel: KERNEL[spec.resample], fastShrinkOnLoad: false });
  if (spec.crop) {
    const { height, width } = spec.crop;
    if (target.width < width || target.height < height) throw new Error(`resized image ${target.width}x${target.height} is smaller than the crop ${width}x${height}`);
    pipeline = pipeline.extract({ left: Math.floor((target.width - width) / 2), top: Math.floor((target.height - height) / 2), width, height });
  }
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  if (info.width !== spec.width || info.height !== spec.height) throw new Error(`decoded to ${info.width}x${info.height}, expected ${spec.width}x${spec.height}`);
  return { data, channels: info.channels, width: upright.width, height: upright.height };
}

/** The model view as an sRGB sharp pipeline to draw on (a grey one as well, so colour can go over it). */
export async function modelViewImage(input: Buffer, spec: PreprocessSpec, limits: DecodeLimits = DEFAULT_LIMITS): Promise<ReturnType<typeof sharp>> {
  const view = await modelView(input, spec, limits);
  return sharp(view.data, { raw: { width: spec.width, height: spec.height, channels: view.channels as 1 | 3 } }).toColourspace('srgb');
}
