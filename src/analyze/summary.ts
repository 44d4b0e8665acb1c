/**
 * The dataset summary (scan.json), recomputed from the per-image store in a fixed order (by file path),
 * so a resumed scan, a merged set of shards and a single uninterrupted run give identical numbers.
 */
import type { FlaggedCellRow, ImageError, LayerRow, NonFiniteRow, OutlierRow } from '../contracts/rows.js';
import { summarizeNonFinite, type LayerNonFinite, type NonFiniteSummary } from './non-finite.js';
import { patchPosition, tokenRole, type TokenLayout, type TokenRole } from '../model/layout.js';

/** What the dataset summary reads: the store's rows in file-path order (store/queries.ts). */
export interface SummarySource {
  counts: { scanned: number; failed: number };
  errors: ImageError[];
  flaggedCells: () => Iterable<FlaggedCellRow>;
  layers: () => Iterable<LayerRow>;
  outliers: () => Iterable<OutlierRow>;
  /** NaN / ±Inf counts (absent: none recorded). */
  nonFinite?: () => Iterable<NonFiniteRow>;
}

export interface LayerSummary {
  layer: number;
  top1: number;
  top2: number;
  top3: number;
  median: number;
  /** Images with at least one cell meeting the massive criterion at this layer. */
  imagesWithMassive: number;
  /** Images whose top-1 cell is a near-miss at this layer. */
  imagesWithNearMiss: number;
  /** Only when some image's hidden state held NaN or ±Inf at this layer (counted as 0 in the statistics above). */
  nonFinite?: LayerNonFinite;
}

export interface ActivationGroup {
  layer: number;
  dim: number;
  role: TokenRole;
  /** Most frequent token index of the group (smallest on ties). */
  token: number;
  /** [row, col] of that token when it is a patch. */
  position?: [number, number];
  images: number;
  meanValue: number;
  minAbs: number;
  maxAbs: number;
  /** Mean |a| / median of its layer. */
  meanRatio: number;
  /** Distinct tokens seen in this group, most frequent first (at most 8): [token, images]. */
  tokens: [number, number][];
}

export interface OutlierFeature {
  layer: number;
  dim: number;
  images: number;
  /** Mean number of tokens above outlierRatio × median in that dim. */
  meanTokens: number;
}


export interface DatasetSummary {
  images: { scanned: number; failed: number; errors: ImageError[] };
  layers: LayerSummary[];
  massive: ActivationGroup[];
  nearMisses: ActivationGroup[];
  outlierFeatures: OutlierFeature[];
  emergence: { firstLayer: number | null; lastLayer: number | null };
  nearMissEmergence: { firstLayer: number | null; lastLayer: number | null };
  /** Only when some hidden state held NaN or ±Inf. */
  nonFinite?: NonFiniteSummary;
}

interface GroupAcc extends ImageCounter {
  layer: number;
  dim: number;
  role: TokenRole;
  sum: number;
  ratioSum: number;
  n: number;
  minAbs: number;
  maxAbs: number;
  tokenImages: Map<number, ImageCounter>;
}

interface ImageCounter {
  images: number;
  /** files.rowid of the last image counted. */
  last: number;
}

/** Rows arrive ordered by path, so an image is new to a counter exactly when its file differs from the last. */
function countImage(c: ImageCounter, file: number): void {
  if (c.last !== file) {
    c.images += 1;
    c.last = file;
  }
}

type GroupedKind = 'massive' | 'near-miss';

/** Massive and near-miss cells grouped by (layer, dim, token role), in one pass over the store. */
function groupCells(rows: Iterable<FlaggedCellRow>, layout: TokenLayout): Record<GroupedKind, ActivationGroup[]> {
  const groups = { massive: new Map<string, GroupAcc>(), 'near-miss': new Map<string, GroupAcc>() };
  for (const [file, kind, layer, token, dim, value, median] of rows) {
    const role = tokenRole(layout, token);
    const key = `${layer}/${dim}/${role}`;
    let g = groups[kind].get(key);
    if (!g) {
      g = { layer, dim, role, images: 0, last: -1, sum: 0, ratioSum: 0, n: 0, minAbs: Infinity, maxAbs: 0, tokenImages: new Map() };
      groups[kind].set(key, g);
    }
    const abs = Math.abs(value);
    countImage(g, file);
    g.sum += value;
    g.ratioSum += median > 0 ? abs / median : 0;
    g.n += 1;
    g.minAbs = Math.min(g.minAbs, abs);
    g.maxAbs = Math.max(g.maxAbs, abs);
    let t = g.tokenImages.get(token);
    if (!t) g.tokenImages.set(token, (t = { images: 0, last: -1 }));
    countImage(t, file);
  }
  return { massive: finishGroups(groups.massive, layout), 'near-miss': finishGroups(groups['near-miss'], layout) };
}

function finishGroups(groups: Map<string, GroupAcc>, layout: TokenLayout): ActivationGroup[] {
  return [...groups.values()]
    .map((g) => {
      const tokens = [...g.tokenImages].map(([t, c]): [number, number] => [t, c.images]).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      const token = tokens[0][0];
      const position = patchPosition(layout, token);
      return {
        layer: g.layer,
        dim: g.dim,
        role: g.role,
        token,
        ...(position ? { position } : {}),
        images: g.images,
        meanValue: g.sum / g.n,
        minAbs: g.minAbs,
        maxAbs: g.maxAbs,
        meanRatio: g.ratioSum / g.n,
        tokens: tokens.slice(0, 8),
      };
    })
    .sort((a, b) => a.layer - b.layer || b.images - a.images || a.dim - b.dim || a.role.localeCompare(b.role));
}

function layerSummaries(rows: Iterable<LayerRow>): LayerSummary[] {
  const acc = new Map<number, { n: number; top1: number; top2: number; top3: number; median: number; massive: number; nearMiss: number }>();
  for (const r of rows) {
    const a = acc.get(r.layer) ?? { n: 0, top1: 0, top2: 0, top3: 0, median: 0, massive: 0, nearMiss: 0 };
    a.n += 1;
    a.top1 += r.top1;
    a.top2 += r.top2;
    a.top3 += r.top3;
    a.median += r.median;
    if (r.massiveCount > 0) a.massive += 1;
    if (r.topKind === 'near-miss') a.nearMiss += 1;
    acc.set(r.layer, a);
  }
  return [...acc]
    .sort((x, y) => x[0] - y[0])
    .map(([layer, a]) => ({ layer, top1: a.top1 / a.n, top2: a.top2 / a.n, top3: a.top3 / a.n, median: a.median / a.n, imagesWithMassive: a.massive, imagesWithNearMiss: a.nearMiss }));
}

function outlierFeatures(rows: Iterable<OutlierRow>): OutlierFeature[] {
  const acc = new Map<string, OutlierFeature & { sum: number }>();
  for (const r of rows) {
    const key = `${r.layer}/${r.dim}`;
    const a = acc.get(key) ?? { layer: r.layer, dim: r.dim, images: 0, meanTokens: 0, sum: 0 };
    a.images += 1;
    a.sum += r.tokens;
    acc.set(key, a);
  }
  return [...acc.values()].map(({ sum, ...o }) => ({ ...o, meanTokens: sum / o.images })).sort((a, b) => a.layer - b.layer || a.dim - b.dim);
}

function span(groups: ActivationGroup[]): { firstLayer: number | null; lastLayer: number | null } {
  if (groups.length === 0) return { firstLayer: null, lastLayer: null };
  const layers = groups.map((g) => g.layer);
  return { firstLayer: Math.min(...layers), lastLayer: Math.max(...layers) };
}

export function summarize(source: SummarySource, layout: TokenLayout): DatasetSummary {
  const { massive, 'near-miss': nearMisses } = groupCells(source.flaggedCells(), layout);
  const layers = layerSummaries(source.layers());
  const nonFinite = source.nonFinite ? summarizeNonFinite(source.nonFinite(), layers) : undefined;
  return {
    images: { ...source.counts, errors: source.errors },
    layers,
    massive,
    nearMisses,
    outlierFeatures: outlierFeatures(source.outliers()),
    emergence: span(massive),
    nearMissEmergence: span(nearMisses),
    ...(nonFinite ? { nonFinite } : {}),
  };
}
