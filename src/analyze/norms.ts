/**
 * Token-norm statistics (Darcet et al. 2024: a few tokens carry outsized L2 norms). Computed from the
 * per-image `layers.norms` BLOBs (float32 [tokens]), in file-path order, so resume/merge/single runs agree.
 * Everything here merges across images: fixed log-spaced histogram bins, counts, sums and sums of squares.
 */
import { DEFAULT_NORM_THRESHOLD } from '../contracts/analysis.js';
import type { NormRow } from '../contracts/rows.js';
import { patchPosition, type TokenLayout } from '../model/layout.js';

/** The paper's hand-picked high-norm threshold (Darcet et al. 2024, DINOv2). */
/** Histogram edges: 8 bins per decade from 0.1 to 1e5 (49 edges, 48 bins); out-of-range norms go to the end bins. */
export const NORM_BIN_EDGES: number[] = Array.from({ length: 49 }, (_, k) => 10 ** (-1 + k / 8));
const AUTO_RULE = 'mean + 3 sd of all patch-token norms of the layer over the dataset';

export interface ThresholdStats {
  threshold: number;
  /** Share of all patch tokens (all images) whose norm exceeds the threshold. */
  share: number;
  /** Images with at least one patch token above. */
  images: number;
  /** Share of border patch tokens (outermost ring of the patch grid) above; null when the grid has none. */
  border: number | null;
  /** Share of the other (inner) patch tokens above; null when the grid has none. */
  centre: number | null;
  /** [row][col]: share of images in which that patch token is above; null when no patch token is above. */
  grid: number[][] | null;
  /** Share of images whose CLS token is above. */
  cls: number;
  /** Share of register tokens (all images) above; null for models without registers. */
  registers: number | null;
}

export interface NormLayer {
  layer: number;
  /** Counts per bin of NORM_BIN_EDGES: patch tokens, and CLS + register tokens ("special"). */
  histogram: { patch: number[]; special: number[] };
  meanNorm: { cls: number; registers: number | null; patches: number };
  /** Standard deviation of the patch-token norms (all images). */
  patchStd: number;
  /** Above the fixed threshold (--norm-threshold, default 150). */
  fixed: ThresholdStats;
  /** Above the automatic threshold: AUTO_RULE. */
  auto: ThresholdStats;
}

export interface NormSummary {
  binEdges: number[];
  autoRule: string;
  layers: NormLayer[];
}

/** Histogram bin of a norm (clamped to the first/last bin). */
export function normBin(norm: number): number {
  if (!(norm > NORM_BIN_EDGES[0])) return 0;
  const k = Math.floor(8 * (Math.log10(norm) + 1));
  return Math.min(NORM_BIN_EDGES.length - 2, Math.max(0, k));
}

const AMBIGUOUS = 255;
let binTable: Uint8Array | undefined;

/**
 * normBin by table: a float32's top 16 bits (sign, exponent, 7 mantissa bits) fix it to within 0.8%, and the
 * bins are 33% wide, so all floats with the same top bits share a bin except near an edge (or NaN): those are
 * marked and computed exactly. Same bins as normBin, without a log10 per token (scan.json's hot loop).
 */
function normBinTable(): Uint8Array {
  if (binTable) return binTable;
  const table = new Uint8Array(1 << 16);
  const bits = new Uint32Array(1);
  const value = new Float32Array(bits.buffer);
  for (let top = 0; top < 1 << 16; top++) {
    bits[0] = top << 16;
    const low = normBin(value[0]);
    const lowNaN = Number.isNaN(value[0]);
    bits[0] = ((top << 16) | 0xffff) >>> 0;
    const high = normBin(value[0]);
    table[top] = low === high && !lowNaN && !Number.isNaN(value[0]) ? low : AMBIGUOUS;
  }
  return (binTable = table);
}

/** True for a patch on the outermost ring of the grid. */
export function isBorder(layout: TokenLayout, token: number): boolean {
  const pos = patchPosition(layout, token);
  if (!pos) return false;
  const [rows, cols] = layout.patchGrid;
  return pos[0] === 0 || pos[1] === 0 || pos[0] === rows - 1 || pos[1] === cols - 1;
}

/** Per-patch norms as a [rows][cols] grid (CLS and registers dropped). */
export function patchGrid(values: ArrayLike<number>, layout: TokenLayout): number[][] {
  const [rows, cols] = layout.patchGrid;
  return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => values[layout.patchStart + r * cols + c]));
}

class ThresholdAcc {
  images = 0;
  above = 0;
  imagesAbove = 0;
  border = 0;
  centre = 0;
  cls = 0;
  registers = 0;
  grid: Float64Array;
  constructor(readonly threshold: number, private readonly layout: TokenLayout, private readonly borderMask: Uint8Array) {
    this.grid = new Float64Array(layout.patchGrid[0] * layout.patchGrid[1]);
  }
  add(norms: Float32Array): void {
    const { layout, threshold } = this;
    this.images += 1;
    let any = false;
    for (let t = layout.patchStart; t < layout.sequenceLength; t++) {
      if (!(norms[t] > threshold)) continue;
      any = true;
      this.above += 1;
      this.grid[t - layout.patchStart] += 1;
      if (this.borderMask[t]) this.border += 1;
      else this.centre += 1;
    }
    if (any) this.imagesAbove += 1;
    if (norms[layout.cls] > threshold) this.cls += 1;
    for (const r of layout.registers) if (norms[r] > threshold) this.registers += 1;
  }
  stats(): ThresholdStats {
    const { layout, images } = this;
    const patches = layout.sequenceLength - layout.patchStart;
    const borderCount = this.borderMask.reduce((n, b) => n + b, 0);
    const centreCount = patches - borderCount;
    const [rows, cols] = layout.patchGrid;
    const share = (n: number, of: number) => (of > 0 ? n / of : 0);
    return {
      threshold: this.threshold,
      share: share(this.above, images * patches),
      images: this.imagesAbove,
      border: borderCount > 0 ? share(this.border, images * borderCount) : null,
      centre: centreCount > 0 ? share(this.centre, images * centreCount) : null,
      grid: this.above > 0 ? Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => share(this.grid[r * cols + c], images))) : null,
      cls: share(this.cls, images),
      registers: layout.registers.length > 0 ? share(this.registers, images * layout.registers.length) : null,
    };
  }
}

interface MomentAcc {
  images: number;
  patch: Float64Array;
  special: Float64Array;
  patchSum: number;
  patchSq: number;
  patchN: number;
  cls: number;
  reg: number;
  fixed: ThresholdAcc;
}

function newMoments(threshold: number, layout: TokenLayout, borderMask: Uint8Array): MomentAcc {
  const bins = NORM_BIN_EDGES.length - 1;
  return { images: 0, patch: new Float64Array(bins), special: new Float64Array(bins), patchSum: 0, patchSq: 0, patchN: 0, cls: 0, reg: 0, fixed: new ThresholdAcc(threshold, layout, borderMask) };
}

/**
 * Dataset norm statistics per layer; two passes (the automatic threshold needs the dataset moments first).
 * `rows(ordered)`: every ok image's [layer, norms], in file-path order when `ordered` (float sums need it).
 */
export function summarizeNorms(rows: (ordered: boolean) => Iterable<NormRow>, layout: TokenLayout, threshold: number = DEFAULT_NORM_THRESHOLD): NormSummary {
  const borderMask = Uint8Array.from({ length: layout.sequenceLength }, (_, t) => (isBorder(layout, t) ? 1 : 0));
  const table = normBinTable();
  const { patchStart, sequenceLength } = layout;
  const acc = new Map<number, MomentAcc>();
  for (const [layer, norms] of rows(true)) {
    const bits = new Uint32Array(norms.buffer, norms.byteOffset, norms.length);
    let a = acc.get(layer);
    if (!a) acc.set(layer, (a = newMoments(threshold, layout, borderMask)));
    a.images += 1;
    for (let t = 0; t < sequenceLength; t++) {
      const n = norms[t];
      let bin = table[bits[t] >>> 16];
      if (bin === AMBIGUOUS) bin = normBin(n);
      if (t >= patchStart) {
        a.patch[bin] += 1;
        a.patchSum += n;
        a.patchSq += n * n;
        a.patchN += 1;
      } else a.special[bin] += 1;
    }
    a.cls += norms[layout.cls];
    for (const r of layout.registers) a.reg += norms[r];
    a.fixed.add(norms);
  }
  const autos = new Map<number, ThresholdAcc>();
  const moments = new Map<number, { mean: number; sd: number }>();
  for (const [layer, a] of acc) {
    const mean = a.patchN > 0 ? a.patchSum / a.patchN : 0;
    const sd = Math.sqrt(Math.max(0, a.patchN > 0 ? a.patchSq / a.patchN - mean * mean : 0));
    moments.set(layer, { mean, sd });
    autos.set(layer, new ThresholdAcc(mean + 3 * sd, layout, borderMask));
  }
  for (const [layer, norms] of rows(false)) autos.get(layer)?.add(norms);
  const layers = [...acc]
    .sort((x, y) => x[0] - y[0])
    .map(([layer, a]): NormLayer => ({
      layer,
      histogram: { patch: Array.from(a.patch), special: Array.from(a.special) },
      meanNorm: {
        cls: a.cls / a.images,
        registers: layout.registers.length > 0 ? a.reg / (a.images * layout.registers.length) : null,
        patches: moments.get(layer)!.mean,
      },
      patchStd: moments.get(layer)!.sd,
      fixed: a.fixed.stats(),
      auto: autos.get(layer)!.stats(),
    }));
  return { binEdges: NORM_BIN_EDGES, autoRule: AUTO_RULE, layers };
}

