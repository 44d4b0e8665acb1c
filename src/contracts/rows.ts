/**
 * The rows that cross between analyze/ and store/: what the analysis writes per image, and what the store
 * reads back for the dataset summaries. Defined here so neither stage imports the other.
 */
import type { CellKind } from './criteria.js';

export interface Cell {
  rank: number;
  token: number;
  dim: number;
  value: number;
  kind: CellKind;
}

export interface LayerObservation {
  layer: number;
  median: number;
  /** The top-k cells by |a|, ranked. */
  cells: Cell[];
  /** Cells meeting the massive criterion anywhere in the hidden state (may exceed the top-k). */
  massiveCount: number;
  /** Dims that are outlier features in this image: [dim, tokens above outlierRatio × median]. */
  outlierDims: [number, number][];
  /** L2 norm of every token. */
  norms: Float32Array;
  /** Only when the hidden state held NaN or ±Inf (the statistics above then count those cells as 0). */
  nonFinite?: NonFiniteCounts;
}

/** The tokens whose received attention is measured, per image. */
export interface SinkTokens {
  /** 'massive' when the image has massive cells, else 'near-miss' when it has near-miss cells, else 'none'. */
  kind: 'massive' | 'near-miss' | 'none';
  /** Tokens holding a massive or near-miss cell at any layer of this image, ascending. */
  tokens: number[];
}

export interface HeadAttention {
  /** Mean over queries of the attention mass on the sink tokens (Σ key_mass over S). */
  sink: number;
  /** Same, on the CLS token. */
  cls: number;
  /** Same, on all register tokens together (0 without registers). */
  registers: number;
  /** The CLS query's attention mass on the sink tokens. */
  clsToSink: number;
}

export interface BlockAttention {
  block: number;
  heads: HeadAttention[];
  /** CLS query's attention row, mean over heads, float32 [tokens]. */
  clsRow: Float32Array;
}

export interface ImageAttention {
  sinks: SinkTokens;
  blocks: BlockAttention[];
}

export interface ImageResult {
  path: string;
  hash: string;
  width: number;
  height: number;
  layers: LayerObservation[];
  /** Present when the scan taps attention. */
  attention?: ImageAttention;
}

/** A file that could not be scanned, as the store keeps it: scan.json's ImageError plus its content hash. */
export interface ImageFailure extends ImageError {
  hash: string | null;
}

export interface KnownFile {
  path: string;
  hash: string;
}

// What the store reads back, in file-path order (the same order in a single, resumed or merged scan gives the same bits).

/** A massive or near-miss cell with its layer's median: [file rowid, kind, layer, token, dim, value, median]. */
export type FlaggedCellRow = [number, 'massive' | 'near-miss', number, number, number, number, number];

export interface LayerRow {
  layer: number;
  median: number;
  top1: number;
  top2: number;
  top3: number;
  massiveCount: number;
  /** Kind of the image's top-1 cell at this layer. */
  topKind: string | null;
}

/** NaN / ±Inf cells of one ok image at one layer (files.rowid as `file`). */
export interface NonFiniteRow extends NonFiniteCounts {
  file: number;
  layer: number;
}

export interface OutlierRow {
  layer: number;
  dim: number;
  tokens: number;
}

/** A file that could not be used, as every output names it (scan.json, intervene.json, bias.json): its path relative to the image root and why. */
export interface ImageError {
  path: string;
  reason: string;
}

/** [layer, token norms] of one ok image. */
export type NormRow = [number, Float32Array];

export interface SinkRow {
  kind: SinkTokens['kind'];
  tokens: number[];
}

export interface HeadRow {
  block: number;
  head: number;
  sinkShare: number;
  clsShare: number;
  registerShare: number;
  clsToSinkShare: number;
  /** |S| of the image. */
  sinkSize: number;
}

/** [block, head-mean CLS attention row] of one ok image. */
export type ClsRowRow = [number, Float32Array];

/** NaN and ±Inf cells of one hidden state (or summed over several). */
export interface NonFiniteCounts {
  nan: number;
  posInf: number;
  negInf: number;
}
