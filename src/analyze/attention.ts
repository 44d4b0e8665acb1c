/**
 * Attention sinks: how much attention goes to the tokens that hold the massive activations (an implicit
 * attention bias, Sun et al. 2024), to CLS and to registers. The in-graph reduction (tap/reduce.ts) leaves
 * only [heads, tokens] per block and image (`key_mass`: mean over queries; `cls_row`: the CLS query's row),
 * so nothing T×T crosses into JS; per image we keep a few scalars per head and the head-mean CLS row.
 */
import { attnPattern } from '../hooks.js';
import type { TokenLayout } from '../model/layout.js';
import type { Db } from '../store/db.js';
import type { LayerObservation } from './observe.js';
import { blobToFloats, patchGrid } from './norms.js';

/** The tokens whose received attention is measured, per image. */
export interface SinkTokens {
  /** 'massive' when the image has massive cells, else 'near' when it has near-miss cells, else 'none'. */
  kind: 'massive' | 'near' | 'none';
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
      if (c.kind === 'massive' || c.kind === 'near') tokens.add(c.token);
      if (c.kind === 'massive') massive = true;
    }
  }
  return { kind: massive ? 'massive' : tokens.size > 0 ? 'near' : 'none', tokens: [...tokens].sort((a, b) => a - b) };
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

/** Dataset attention summary from the store (file-path order); undefined when the scan had no attention rows. */
export function summarizeAttention(db: Db, layout: TokenLayout, missing: { block: number; reason: string }[] = []): AttentionSummary | undefined {
  const sinkRows = db
    .prepare(`SELECT s.kind, s.tokens FROM files f JOIN attn_sinks s ON s.hash = f.hash WHERE f.status = 'ok' ORDER BY f.path`)
    .all() as { kind: SinkTokens['kind']; tokens: string }[];
  if (sinkRows.length === 0) return undefined;
  const kinds = { massive: 0, near: 0, none: 0 };
  const tokenCount = new Map<number, number>();
  for (const r of sinkRows) {
    kinds[r.kind] += 1;
    for (const t of JSON.parse(r.tokens) as number[]) tokenCount.set(t, (tokenCount.get(t) ?? 0) + 1);
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
  const heads = db
    .prepare(
      `SELECT a.block, a.head, a.sink_share, a.cls_share, a.reg_share, a.cls_sink_share, s.size FROM files f
       JOIN attn a ON a.hash = f.hash JOIN attn_sinks s ON s.hash = f.hash WHERE f.status = 'ok' ORDER BY f.path, a.block, a.head`,
    )
    .iterate() as Iterable<{ block: number; head: number; sink_share: number; cls_share: number; reg_share: number; cls_sink_share: number; size: number }>;
  for (const r of heads) {
    const a = get(r.block);
    const size = r.size;
    const add = (arr: number[], v: number) => (arr[r.head] = (arr[r.head] ?? 0) + v);
    add(a.cls, r.cls_share);
    add(a.reg, r.reg_share);
    if (size > 0) {
      add(a.sink, r.sink_share);
      add(a.clsSink, r.cls_sink_share);
    }
    if (r.head === 0) {
      a.all += 1;
      if (size > 0) {
        a.withSink += 1;
        a.baseline += size / T;
      }
    }
  }
  const maps = db
    .prepare(`SELECT m.block, m.cls_row FROM files f JOIN attn_maps m ON m.hash = f.hash WHERE f.status = 'ok' ORDER BY f.path, m.block`)
    .iterate() as Iterable<{ block: number; cls_row: Buffer }>;
  for (const r of maps) {
    const row = blobToFloats(r.cls_row);
    const a = get(r.block);
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

/** One image's head-mean CLS → token attention row at one block (for per-image maps). */
export function imageClsRow(db: Db, rel: string, block: number): Float32Array | undefined {
  const row = db
    .prepare(`SELECT m.cls_row FROM files f JOIN attn_maps m ON m.hash = f.hash WHERE f.path = ? AND f.status = 'ok' AND m.block = ?`)
    .get(rel, block) as { cls_row: Buffer } | undefined;
  return row ? blobToFloats(row.cls_row) : undefined;
}
