/**
 * Attention sinks: how much attention goes to the tokens that hold the massive activations (an implicit
 * attention bias, Sun et al. 2024), to CLS and to registers. The in-graph reduction (tap/reduce.ts) leaves
 * only [heads, tokens] per block and image (`key_mass`: mean over queries; `cls_row`: the CLS query's row),
 * so nothing T×T crosses into JS; per image we keep a few scalars per head and the head-mean CLS row.
 */
import { attnPattern } from '../contracts/hooks.js';
import type { TokenLayout } from '../model/layout.js';
import type { BlockAttention, ClsRowRow, HeadAttention, HeadRow, ImageAttention, LayerObservation, SinkRow, SinkTokens } from '../contracts/rows.js';
import { patchGrid } from './norms.js';

/**
 * S for one image: tokens holding massive or near-miss cells at any layer (near-misses included so that
 * models just under the 1000× criterion, like ViT-Ti, still get their sinks; S differs per image, as
 * DINOv2's high-norm tokens move from image to image).
 */
export function sinkTokens(layers: LayerObservation[]): SinkTokens {
  const tokens = new Set<number>();
  let massive = false;
  for (const l of layers) {
    for (const c of l.cells) {
      if (c.kind === 'massive' || c.kind === 'near-miss') tokens.add(c.token);
      if (c.kind === 'massive') massive = true;
    }
  }
  return { kind: massive ? 'massive' : tokens.size > 0 ? 'near-miss' : 'none', tokens: [...tokens].sort((a, b) => a - b) };
}

/** The tap's attention summary outputs (`….key_mass`, `….cls_row`: float32 [batch, heads, tokens]) by name. */
export type AttentionOutputs = Record<string, { data: Float32Array; dims: readonly number[] }>;

function itemRows(out: AttentionOutputs, name: string, item: number): { data: Float32Array; heads: number; tokens: number } {
  const t = out[name];
  const [, heads, tokens] = t.dims.map(Number);
  const data = t.data.subarray(item * heads * tokens, (item + 1) * heads * tokens);
  return { data, heads, tokens };
}

/** Attention observation of one image of a batch; blocks without a pattern hook are skipped. */
export function observeAttention(out: AttentionOutputs, item: number, numBlocks: number, layout: TokenLayout, sinks: SinkTokens): ImageAttention {
  const blocks: BlockAttention[] = [];
  for (let block = 0; block < numBlocks; block++) {
    const hook = attnPattern(block);
    if (!out[`${hook}.key_mass`]) continue;
    const mass = itemRows(out, `${hook}.key_mass`, item);
    const row = itemRows(out, `${hook}.cls_row`, item);
    const T = mass.tokens;
    const heads: HeadAttention[] = [];
    const clsRow = new Float32Array(T);
    for (let h = 0; h < mass.heads; h++) {
      const m = mass.data.subarray(h * T, (h + 1) * T);
      const r = row.data.subarray(h * T, (h + 1) * T);
      let sink = 0;
      let clsToSink = 0;
      for (const s of sinks.tokens) {
        sink += m[s];
        clsToSink += r[s];
      }
      let registers = 0;
      for (const t of layout.registers) registers += m[t];
      heads.push({ sink, cls: m[layout.cls], registers, clsToSink });
      for (let t = 0; t < T; t++) clsRow[t] += r[t] / mass.heads;
    }
    blocks.push({ block, heads, clsRow });
  }
  return { sinks, blocks };
}

export interface HeadSummary {
  head: number;
  /** Mean over images with a non-empty S of the mass on S (compare with `baseline`). */
  sinkShare: number;
  clsShare: number;
  /** null for models without registers. */
  registerShare: number | null;
  /** Mean over images with a non-empty S of the CLS query's mass on S. */
  clsToSinkShare: number;
}

export interface BlockSummary {
  block: number;
  /** The hidden state this block's attention reads: hidden_states[block]. */
  layer: number;
  heads: HeadSummary[];
  /** Head means of the per-head shares. */
  sinkShare: number;
  clsShare: number;
  registerShare: number | null;
  /** Uniform baseline for the sink share: mean over images with non-empty S of |S| / tokens. */
  baseline: number;
  /** Uniform baseline for one token (CLS): 1 / tokens; for registers: registers / tokens. */
  tokenBaseline: number;
  /** Dataset-mean CLS → patch attention (head mean), [rows][cols], CLS and registers dropped, not renormalised. */
  clsMap: number[][];
}

export interface AttentionSummary {
  /** Images with attention rows. */
  images: number;
  /** Images whose S came from massive cells / near-miss cells / had none (excluded from the sink shares). */
  sinkKinds: { massive: number; near: number; none: number };
  /** Most frequent sink tokens: [token, images], at most 16. */
  sinkTokens: [number, number][];
  blocks: BlockSummary[];
  /** Blocks whose attention could not be tapped, with the reason (fused attention). */
  missing: { block: number; reason: string }[];
}

interface BlockAcc {
  sink: number[];
  cls: number[];
  reg: number[];
  clsSink: number[];
  withSink: number;
  all: number;
  baseline: number;
  clsRow: Float64Array;
}

/** What the attention summary reads: the store's rows in file-path order (store/queries.ts). */
export interface AttentionSource {
  sinks: SinkRow[];
  heads: () => Iterable<HeadRow>;
  clsRows: () => Iterable<ClsRowRow>;
}

/** Dataset attention summary from the store's rows; undefined when the scan had no attention rows. */
export function summarizeAttention(source: AttentionSource, layout: TokenLayout, missing: { block: number; reason: string }[] = []): AttentionSummary | undefined {
  const sinkRows = source.sinks;
  if (sinkRows.length === 0) return undefined;
  const kinds = { massive: 0, near: 0, none: 0 };
  const tokenCount = new Map<number, number>();
  for (const r of sinkRows) {
    kinds[r.kind === 'near-miss' ? 'near' : r.kind] += 1; // scan.json's key (a documented contract) stays `near`
    for (const t of r.tokens) tokenCount.set(t, (tokenCount.get(t) ?? 0) + 1);
  }
  const T = layout.sequenceLength;
  const acc = new Map<number, BlockAcc>();
  const get = (block: number): BlockAcc => {
    let a = acc.get(block);
    if (!a) {
      a = { sink: [], cls: [], reg: [], clsSink: [], withSink: 0, all: 0, baseline: 0, clsRow: new Float64Array(T) };
      acc.set(block, a);
    }
    return a;
  };
  for (const r of source.heads()) {
    const a = get(r.block);
    const size = r.sinkSize;
    const add = (arr: number[], v: number) => (arr[r.head] = (arr[r.head] ?? 0) + v);
    add(a.cls, r.clsShare);
    add(a.reg, r.registerShare);
    if (size > 0) {
      add(a.sink, r.sinkShare);
      add(a.clsSink, r.clsToSinkShare);
    }
    if (r.head === 0) {
      a.all += 1;
      if (size > 0) {
        a.withSink += 1;
        a.baseline += size / T;
      }
    }
  }
  for (const [block, row] of source.clsRows()) {
    const a = get(block);
    for (let t = 0; t < T; t++) a.clsRow[t] += row[t];
  }
  const mean = (xs: number[]) => (xs.length > 0 ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);
  const blocks = [...acc]
    .sort((x, y) => x[0] - y[0])
    .map(([block, a]): BlockSummary => {
      const nHeads = a.cls.length;
      const per = (arr: number[], h: number, n: number) => (n > 0 ? (arr[h] ?? 0) / n : 0);
      const hs: HeadSummary[] = Array.from({ length: nHeads }, (_, h) => ({
        head: h,
        sinkShare: per(a.sink, h, a.withSink),
        clsShare: per(a.cls, h, a.all),
        registerShare: layout.registers.length > 0 ? per(a.reg, h, a.all) : null,
        clsToSinkShare: per(a.clsSink, h, a.withSink),
      }));
      return {
        block,
        layer: block,
        heads: hs,
        sinkShare: mean(hs.map((h) => h.sinkShare)),
        clsShare: mean(hs.map((h) => h.clsShare)),
        registerShare: layout.registers.length > 0 ? mean(hs.map((h) => h.registerShare ?? 0)) : null,
        baseline: a.withSink > 0 ? a.baseline / a.withSink : 0,
        tokenBaseline: 1 / T,
        clsMap: patchGrid(Array.from(a.clsRow, (v) => (a.all > 0 ? v / a.all : 0)), layout),
      };
    });
  const sinkTokens = [...tokenCount].sort((x, y) => y[1] - x[1] || x[0] - y[0]).slice(0, 16);
  return { images: sinkRows.length, sinkKinds: kinds, sinkTokens, blocks, missing };
}

