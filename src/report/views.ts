/**
 * The feature × token view (the paper's 3-D plot): one image's whole hidden state at one layer. It needs
 * the model, so scan captures it and saves a compact JSON (views/feature-token.json) beside scan.json;
 * `massivit report` re-creates the HTML from that file alone.
 */
import { readFileSync, existsSync } from 'node:fs';
import { ensureOutputDir, writeFileAtomic } from '../atomic.js';
import { dirname, join, resolve } from 'node:path';
import { MassivitError, errorMessage, invalidOption } from '../errors.js';
import { checkView } from './file-shapes.js';
import { layerHook } from '../hooks.js';
import { preprocessImage } from '../images/preprocess.js';
import { readStoredImage } from '../images/read.js';
import type { ModelSpec } from '../model/load.js';
import { openRunner } from '../run/runner.js';
import type { ScanJson } from './scan-json.js';
import type { Db } from '../store/db.js';
import { isScannedImage, strongestImage } from '../store/reads.js';

import { VIEW_FILE } from '../contracts/files.js';
export const VIEW_VERSION = 1;
/** Grid bounds: enough to see single cells in a ViT-B at 224 px, small enough to embed (≈ 10 kB). */
const MAX_ROWS = 128;
const MAX_COLS = 96;
const TOP_DIMS = 5;

export type ViewReason = 'massive' | 'near-miss' | 'last layer' | 'chosen';

export interface FeatureTokenView {
  version: number;
  layer: number;
  /** Why this layer: the emergence layer of massive activations, else of near-misses, else the last; or chosen by the user. */
  reason: ViewReason;
  /** Path of the image, relative to the scanned folder. */
  image: string;
  tokens: number;
  dims: number;
  /** Median |a| over the whole hidden state (the criterion's denominator). */
  median: number;
  /** Per token: max |a| over dims, and the dim where it is reached. */
  tokenMax: number[];
  tokenArgmax: number[];
  /** The dims that matter (massive/near-miss dims of this layer first): signed value per token. */
  topDims: { dim: number; flagged: boolean; values: number[] }[];
  /** Max-pooled |a| grid: rows are token ranges starting at rowStarts (CLS and registers alone), cols dim ranges. */
  grid: { rowStarts: number[]; dimBin: number; cols: number; log10Min: number; log10Max: number; data: string };
}

/**
 * Which layer and image the view shows (null when the scan has no image). By default the emergence layer
 * and the image with the largest top-1 there; `layer` / `image` override either.
 */
export function pickView(db: Db, scan: ScanJson, choice: { layer?: number; image?: string } = {}): { layer: number; reason: ViewReason; image: string } | null {
  const m = scan.emergence.firstLayer;
  const n = scan.nearMissEmergence.firstLayer;
  let [layer, reason]: [number, ViewReason] = m !== null ? [m, 'massive'] : n !== null ? [n, 'near-miss'] : [scan.model.numLayers, 'last layer'];
  if (choice.layer !== undefined) {
    if (!Number.isInteger(choice.layer) || choice.layer < 0 || choice.layer > scan.model.numLayers) {
      throw invalidOption('--layer', `an integer from 0 to ${scan.model.numLayers}`, choice.layer);
    }
    [layer, reason] = [choice.layer, 'chosen'];
  }
  if (choice.image !== undefined) {
    if (!isScannedImage(db, choice.image)) throw invalidOption('--image', 'the path of a scanned image, relative to the scanned folder', choice.image);
    return { layer, reason: 'chosen', image: choice.image };
  }
  const best = strongestImage(db, layer);
  return best ? { layer, reason, image: best.path } : null;
}

const round = (v: number): number => Number(v.toPrecision(5));

/** Builds the view from one hidden state [tokens, dims] (row-major). */
export function buildView(raw: Float32Array, tokens: number, dims: number, patchStart: number, flaggedDims: number[], meta: { layer: number; reason: ViewReason; image: string }): FeatureTokenView {
  // NaN / ±Inf count as 0, as in the scan's statistics (analyze/non-finite.ts); scan.json counts them.
  const hidden = raw.some((v) => !Number.isFinite(v)) ? raw.map((v) => (Number.isFinite(v) ? v : 0)) : raw;
  const abs = Float32Array.from(hidden, Math.abs);
  const sorted = Float32Array.from(abs).sort();
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  const tokenMax: number[] = [];
  const tokenArgmax: number[] = [];
  const dimMax = new Float32Array(dims);
  for (let t = 0; t < tokens; t++) {
    let best = -1;
    let arg = 0;
    for (let d = 0; d < dims; d++) {
      const v = abs[t * dims + d];
      if (v > best) [best, arg] = [v, d];
      if (v > dimMax[d]) dimMax[d] = v;
    }
    tokenMax.push(round(best));
    tokenArgmax.push(arg);
  }
  const chosen = [...new Set(flaggedDims)].slice(0, TOP_DIMS);
  const byMax = Array.from(dimMax.keys()).sort((a, b) => dimMax[b] - dimMax[a]);
  for (const d of byMax) if (chosen.length < TOP_DIMS && !chosen.includes(d)) chosen.push(d);
  const topDims = chosen.map((dim) => ({
    dim,
    flagged: flaggedDims.includes(dim),
    values: Array.from({ length: tokens }, (_, t) => round(hidden[t * dims + dim])),
  }));
  return { version: VIEW_VERSION, ...meta, tokens, dims, median: round(median), tokenMax, tokenArgmax, topDims, grid: poolGrid(abs, tokens, dims, patchStart, median) };
}

function poolGrid(abs: Float32Array, tokens: number, dims: number, patchStart: number, median: number): FeatureTokenView['grid'] {
  const rowStarts = Array.from({ length: Math.min(patchStart, tokens) }, (_, t) => t);
  const patchRows = Math.max(1, MAX_ROWS - rowStarts.length);
  const tokenBin = Math.max(1, Math.ceil((tokens - patchStart) / patchRows));
  for (let t = patchStart; t < tokens; t += tokenBin) rowStarts.push(t);
  const dimBin = Math.max(1, Math.ceil(dims / MAX_COLS));
  const cols = Math.ceil(dims / dimBin);
  const pooled = new Float32Array(rowStarts.length * cols);
  rowStarts.forEach((start, r) => {
    const end = r + 1 < rowStarts.length ? rowStarts[r + 1] : tokens;
    for (let t = start; t < end; t++) {
      for (let d = 0; d < dims; d++) {
        const i = r * cols + Math.floor(d / dimBin);
        if (abs[t * dims + d] > pooled[i]) pooled[i] = abs[t * dims + d];
      }
    }
  });
  // Quantise log10 |a| to one byte: the plot is about orders of magnitude, so 256 levels are plenty.
  const logs = Array.from(pooled, (v) => Math.log10(Math.max(v, 1e-6)));
  // The colour range stops 3 decades under the median: a dead (all-zero) dim must not wash out the rest.
  const floor = Math.log10(Math.max(median, 1e-6)) - 3;
  const log10Min = Math.floor(Math.max(floor, Math.min(...logs)) * 10) / 10;
  const log10Max = Math.ceil(Math.max(...logs) * 10) / 10;
  const span = Math.max(log10Max - log10Min, 1e-6);
  const bytes = Uint8Array.from(logs, (l) => Math.round(Math.max(0, (l - log10Min) / span) * 255));
  return { rowStarts, dimBin, cols, log10Min, log10Max, data: Buffer.from(bytes).toString('base64') };
}

/** Decodes the grid back to log10 |a| values, row-major. */
export function gridValues(grid: FeatureTokenView['grid']): Float32Array {
  const bytes = Buffer.from(grid.data, 'base64');
  const span = grid.log10Max - grid.log10Min;
  return Float32Array.from(bytes, (b) => grid.log10Min + (b / 255) * span);
}

export interface CaptureOptions {
  spec: ModelSpec;
  scan: ScanJson;
  db: Db;
  imagesRoot: string;
  outDir: string;
  threads?: number;
  maxPixels?: number;
  /** Override the layer / image (path relative to the scanned folder) the view shows. */
  layer?: number;
  image?: string;
}

/** Runs the model once on the chosen image and writes views/feature-token.json; returns its path, or null. */
export async function captureFeatureTokenView(o: CaptureOptions): Promise<string | null> {
  const pick = pickView(o.db, o.scan, { layer: o.layer, image: o.image });
  if (!pick) return null;
  const hook = layerHook(pick.layer);
  const bytes = await readStoredImage(o.imagesRoot, pick.image);
  const img = await preprocessImage(bytes, o.spec.preprocess, { maxPixels: o.maxPixels ?? 100_000_000 });
  const tapped = await openRunner(o.spec, { expose: [hook] }, { device: 'cpu', threads: o.threads ?? 0 });
  let hidden: Float32Array;
  let tokens: number;
  let dims: number;
  try {
    const out = await tapped.run([img.pixels]);
    const t = out[hook];
    [tokens, dims] = [Number(t.dims[1]), Number(t.dims[2])];
    hidden = t.data as Float32Array;
  } finally {
    await tapped.close();
  }
  const flagged = [...o.scan.massive, ...o.scan.nearMisses].filter((g) => g.layer === pick.layer).map((g) => g.dim);
  const view = buildView(hidden, tokens, dims, o.scan.model.tokens.patchStart, flagged, pick);
  const path = join(resolve(o.outDir), VIEW_FILE);
  ensureOutputDir(dirname(path));
  writeFileAtomic(path, JSON.stringify(view) + '\n');
  return path;
}

export function readView(outDir: string): FeatureTokenView | undefined {
  const path = join(resolve(outDir), VIEW_FILE);
  if (!existsSync(path)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new MassivitError('BAD_OUTPUT', `Cannot read ${path}: ${errorMessage(err)}`);
  }
  // Another version is skipped (the report says the view is missing); this version is checked field by field.
  return (json as Partial<FeatureTokenView> | null)?.version === VIEW_VERSION ? checkView(path, json) : undefined;
}
