/**
 * A patch-grid map (token norms, CLS attention) drawn over the photo as the model saw it (model-view.ts:
 * the same rotation, resize kernel, crop and pixel limit as preprocessing), one coloured cell per patch.
 */
import sharp from 'sharp';
import type { PreprocessSpec } from '../model/preprocessor.js';
import { modelViewImage, type DecodeLimits } from './model-view.js';

export interface OverlayOptions {
  /** Output scale relative to the model input (default 2: a 224 px model gives a 448 px picture). */
  scale?: number;
  /** Opacity of the map (default 0.6). */
  alpha?: number;
  /** Colour scale: 'linear' from the grid's min to max, or 'log' (default linear). */
  colour?: 'linear' | 'log';
  /** The pixel limit the photo is decoded under: the scan's (default DEFAULT_LIMITS). */
  limits?: DecodeLimits;
}

/** Inferno-like ramp (dark → yellow): a few anchors, linearly interpolated. */
const RAMP: [number, number, number][] = [
  [0, 0, 4],
  [87, 16, 110],
  [188, 55, 84],
  [249, 142, 9],
  [252, 255, 164],
];

function rampColour(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((c) => Math.round(RAMP[i][c] + f * (RAMP[i + 1][c] - RAMP[i][c]))) as [number, number, number];
}

/** PNG of `grid` ([rows][cols]) over the photo; returns the PNG bytes. */
export async function renderOverlay(photo: Buffer, spec: PreprocessSpec, grid: number[][], opts: OverlayOptions = {}): Promise<Buffer> {
  const scale = opts.scale ?? 2;
  const alpha = Math.round(255 * (opts.alpha ?? 0.6));
  const rows = grid.length;
  const cols = grid[0]?.length ?? 0;
  const width = Math.round(spec.width * scale);
  const height = Math.round(spec.height * scale);
  const f = opts.colour === 'log' ? (v: number) => Math.log10(Math.max(v, 1e-12)) : (v: number) => v;
  const values = grid.flat().map(f);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const cells = Buffer.alloc(rows * cols * 4);
  values.forEach((v, i) => {
    const [r, g, b] = rampColour(hi > lo ? (v - lo) / (hi - lo) : 0);
    cells.set([r, g, b, alpha], i * 4);
  });
  // Nearest-neighbour upscaling keeps every patch a sharp-edged square.
  const map = await sharp(cells, { raw: { width: cols, height: rows, channels: 4 } }).resize(width, height, { kernel: 'nearest', fit: 'fill' }).png().toBuffer();
  const base = await (await modelViewImage(photo, spec, opts.limits)).resize(width, height, { fit: 'fill' }).png().toBuffer();
  return sharp(base).composite([{ input: map }]).png().toBuffer();
}
