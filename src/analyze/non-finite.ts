/**
 * NaN and ±Inf in a hidden state (a broken model, or an fp16 overflow). They are counted per image and
 * layer, and the layer's statistics are taken with those cells as 0, so every stored number is finite
 * (SQLite would store NaN as NULL, JSON as null) and the counts say how much of the layer that hides.
 */
import type { NonFiniteCounts, NonFiniteRow } from '../contracts/rows.js';

export type { NonFiniteCounts } from '../contracts/rows.js';

/** A layer of scan.json `layers[]`, when any image had non-finite cells there. */
export interface LayerNonFinite extends NonFiniteCounts {
  /** Images with at least one non-finite cell at this layer. */
  images: number;
}

/** scan.json `nonFinite`: present only when some hidden state held NaN or ±Inf. */
export interface NonFiniteSummary {
  firstLayer: number;
  lastLayer: number;
  /** Images with a non-finite cell at any layer. */
  images: number;
  /** Cells over all images and layers. */
  cells: NonFiniteCounts;
}

/**
 * Counts of x[offset .. offset + tokens × dims), or undefined when every cell is finite. `norms` (the
 * kernel's token L2 norms) screens the tokens: a token holding NaN or ±Inf has a non-finite norm, so only
 * such tokens (rare; a float32 overflow of the sum of squares also lands here) are read cell by cell.
 */
export function countNonFinite(x: Float32Array, offset: number, tokens: number, dims: number, norms: Float32Array): NonFiniteCounts | undefined {
  let found: NonFiniteCounts | undefined;
  for (let t = 0; t < tokens; t++) {
    if (Number.isFinite(norms[t])) continue;
    for (let i = offset + t * dims, end = i + dims; i < end; i++) {
      const v = x[i];
      if (Number.isFinite(v)) continue;
      found ??= { nan: 0, posInf: 0, negInf: 0 };
      if (v !== v) found.nan++;
      else if (v > 0) found.posInf++;
      else found.negInf++;
    }
  }
  return found;
}

/** x with its non-finite cells set to 0, in a fresh buffer (only for the rare layers that have them). */
export function finiteCopy(x: Float32Array, offset: number, n: number): Float32Array {
  const copy = x.slice(offset, offset + n);
  for (let i = 0; i < n; i++) if (!Number.isFinite(copy[i])) copy[i] = 0;
  return copy;
}

/**
 * scan.json's `nonFinite` from the store's rows (file-path order), undefined when there are none; adds
 * `nonFinite` to the affected entries of `layers` (in place).
 */
export function summarizeNonFinite(rows: Iterable<NonFiniteRow>, layers: { layer: number; nonFinite?: LayerNonFinite }[]): NonFiniteSummary | undefined {
  const byLayer = new Map(layers.map((l) => [l.layer, l]));
  const files = new Set<number>();
  const cells: NonFiniteCounts = { nan: 0, posInf: 0, negInf: 0 };
  let [first, last] = [Infinity, -Infinity];
  for (const r of rows) {
    const l = byLayer.get(r.layer);
    if (!l) continue;
    const n = (l.nonFinite ??= { images: 0, nan: 0, posInf: 0, negInf: 0 });
    n.images += 1; // one row per (image, layer)
    for (const k of ['nan', 'posInf', 'negInf'] as const) {
      n[k] += r[k];
      cells[k] += r[k];
    }
    files.add(r.file);
    [first, last] = [Math.min(first, r.layer), Math.max(last, r.layer)];
  }
  return files.size === 0 ? undefined : { firstLayer: first, lastLayer: last, images: files.size, cells };
}
