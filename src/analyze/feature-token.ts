/**
 * The feature × token view (the paper's 3-D plot): one image's whole hidden state at one layer, reduced to a
 * compact, embeddable summary. Pure: a hidden state in, the view out (outputs/view-json.ts reads and writes it).
 */
import { finiteCopy } from './non-finite.js';

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

const round = (v: number): number => Number(v.toPrecision(5));

/** Builds the view from one hidden state [tokens, dims] (row-major). */
export function buildView(raw: Float32Array, tokens: number, dims: number, patchStart: number, flaggedDims: number[], meta: { layer: number; reason: ViewReason; image: string }): FeatureTokenView {
  // NaN / ±Inf count as 0, as in the scan's statistics (analyze/non-finite.ts); scan.json counts them.
  const hidden = raw.some((v) => !Number.isFinite(v)) ? finiteCopy(raw, 0, raw.length) : raw;
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

