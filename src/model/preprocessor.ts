/** preprocessor_config.json → the exact preprocessing recipe (ViTImageProcessor, BitImageProcessor, CLIPImageProcessor). */
import { badModel } from '../contracts/errors.js';
import type { Family } from './config.js';

export type Resample = 'nearest' | 'lanczos' | 'bilinear' | 'bicubic' | 'box' | 'hamming';
/** Pillow's resample codes, as HF configs store them. */
const PIL_RESAMPLE: Resample[] = ['nearest', 'lanczos', 'bilinear', 'bicubic', 'box', 'hamming'];

export interface PreprocessSpec {
  processor: string;
  resize: { kind: 'exact'; height: number; width: number } | { kind: 'shortest_edge'; edge: number } | null;
  crop: { height: number; width: number } | null;
  resample: Resample;
  rescale: number | null;
  mean: [number, number, number];
  std: [number, number, number];
  /** Final tensor size. */
  height: number;
  width: number;
}

type Json = Record<string, unknown>;

/** A side length in pixels: a positive integer no larger than any real input (16384 px). */
function side(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 16384;
}

function hw(value: unknown, squareIsShortest: boolean): PreprocessSpec['resize'] {
  if (typeof value === 'number' && side(value)) return squareIsShortest ? { kind: 'shortest_edge', edge: value } : { kind: 'exact', height: value, width: value };
  if (value && typeof value === 'object') {
    const v = value as Json;
    if (side(v.height) && side(v.width)) return { kind: 'exact', height: v.height, width: v.width };
    if (side(v.shortest_edge)) return { kind: 'shortest_edge', edge: v.shortest_edge };
  }
  throw badModel(`preprocessor_config.json: cannot read size ${JSON.stringify(value)} (expected whole pixel counts from 1 to 16384)`);
}

/** Normalisation statistics are per-channel values of order 0.1–1; `std` divides, so it must not be 0. */
function triple(value: unknown, name: string, fallback: number, nonZero: boolean): [number, number, number] {
  const ok = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && Math.abs(x) <= 1000 && (!nonZero || Math.abs(x) >= 1e-6);
  const want = `3 finite numbers${nonZero ? ' of magnitude at least 1e-6' : ''} (at most 1000)`;
  if (value === undefined) return [fallback, fallback, fallback];
  if (typeof value === 'number' && ok(value)) return [value, value, value];
  if (Array.isArray(value) && value.length === 3 && value.every(ok)) return value as [number, number, number];
  throw badModel(`preprocessor_config.json: expected ${want} for ${name} but found ${JSON.stringify(value)}`);
}

function rescaleFactor(raw: Json): number | null {
  if (raw.do_rescale === false) return null;
  if (raw.rescale_factor === undefined) return 1 / 255;
  const f = raw.rescale_factor;
  if (typeof f !== 'number' || !Number.isFinite(f) || f <= 0 || f > 1) {
    throw badModel(`preprocessor_config.json: expected rescale_factor in (0, 1] (usually 1/255) but found ${JSON.stringify(f)}`);
  }
  return f;
}

export function parsePreprocessor(raw: unknown, family: Family): PreprocessSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw badModel(`preprocessor_config.json: expected a JSON object but found ${raw === null ? 'null' : typeof raw}`);
  return parseObject(raw as Json, family);
}

function parseObject(raw: Json, family: Family): PreprocessSpec {
  const processor = String(raw.image_processor_type ?? raw.feature_extractor_type ?? 'unknown');
  // A bare integer size means "square" for ViT/DeiT processors and "shortest edge" for CLIP/Bit ones.
  const squareIsShortest = !/^(ViT|DeiT)/.test(processor) && family !== 'vit';
  const resize = raw.do_resize === false ? null : hw(raw.size, squareIsShortest);
  let crop: PreprocessSpec['crop'] = null;
  if (raw.do_center_crop === true) {
    const c = hw(raw.crop_size ?? raw.size, false);
    if (c?.kind !== 'exact') throw badModel('preprocessor_config.json: crop_size must give height and width');
    crop = { height: c.height, width: c.width };
  }
  const final = crop ?? (resize?.kind === 'exact' ? resize : null);
  if (!final) throw badModel('preprocessor_config.json: neither size {height,width} nor a center crop fixes the input size');
  const code = raw.resample === undefined ? 3 : raw.resample;
  const resample = typeof code === 'number' && Number.isInteger(code) ? PIL_RESAMPLE[code] : undefined;
  if (!resample) throw badModel(`preprocessor_config.json: unknown resample code ${JSON.stringify(code)} (Pillow's 0–5)`);
  return {
    processor,
    resize,
    crop,
    resample,
    rescale: rescaleFactor(raw),
    mean: raw.do_normalize === false ? [0, 0, 0] : triple(raw.image_mean, 'image_mean', 0.5, false),
    std: raw.do_normalize === false ? [1, 1, 1] : triple(raw.image_std, 'image_std', 0.5, true),
    height: final.height,
    width: final.width,
  };
}

type Triple = [number, number, number];
/** Each family's usual normalisation (HF defaults), for a bare .onnx without preprocessor_config.json. */
const FAMILY_STATS: Record<Family, [Triple, Triple]> = {
  vit: [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]],
  dinov2: [[0.485, 0.456, 0.406], [0.229, 0.224, 0.225]],
  dinov2_with_registers: [[0.485, 0.456, 0.406], [0.229, 0.224, 0.225]],
  clip_vision_model: [[0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]],
};

/** A processor for a bare .onnx given only a size: exact square resize, bicubic, the family's mean/std. */
export function defaultPreprocessor(size: number, family: Family): PreprocessSpec {
  const [mean, std] = FAMILY_STATS[family];
  return { processor: 'massivit-default', resize: { kind: 'exact', height: size, width: size }, crop: null, resample: 'bicubic', rescale: 1 / 255, mean, std, height: size, width: size };
}
