/**
 * The store's read side for the dataset summaries: every query the analysis needs, as plain rows in
 * file-path order. analyze/ computes from these rows and never sees SQL.
 */
import type { ClsRowRow, FlaggedCellRow, HeadRow, ImageError, LayerRow, NonFiniteRow, NormRow, OutlierRow, SinkRow } from '../contracts/rows.js';
import type { Db } from './db.js';

/** A float32 view of a BLOB: in place when aligned, else a copy (SQLite buffers need not be 4-byte aligned). */
function blobToFloats(blob: Buffer): Float32Array {
  if (blob.byteOffset % 4 === 0) return new Float32Array(blob.buffer, blob.byteOffset, blob.byteLength / 4);
  const bytes = new Uint8Array(blob.byteLength);
  bytes.set(blob);
  return new Float32Array(bytes.buffer);
}

export function fileCounts(db: Db): { scanned: number; failed: number } {
  const counts = db.prepare('SELECT status, COUNT(*) AS n FROM files GROUP BY status').all() as { status: string; n: number }[];
  return { scanned: counts.find((c) => c.status === 'ok')?.n ?? 0, failed: counts.find((c) => c.status === 'error')?.n ?? 0 };
}

export function failedFiles(db: Db): ImageError[] {
  return db.prepare("SELECT path, reason FROM files WHERE status = 'error' ORDER BY path").all() as ImageError[];
}

/** Massive and near-miss cells of every ok image with their layer's median. */
export function flaggedCellRows(db: Db): Iterable<FlaggedCellRow> {
  return db
    .prepare(
      `SELECT f.rowid, c.kind, c.layer, c.token, c.dim, c.value, l.median FROM files f
       JOIN cells c ON c.hash = f.hash JOIN layers l ON l.hash = c.hash AND l.layer = c.layer
       WHERE f.status = 'ok' AND c.kind IN ('massive', 'near-miss') ORDER BY f.path, c.layer, c.rank`,
    )
    .raw(true)
    .iterate() as Iterable<FlaggedCellRow>;
}

export function layerRows(db: Db): Iterable<LayerRow> {
  return db
    .prepare(
      `SELECT l.layer, l.median, l.top1, l.top2, l.top3, l.massive_count AS massiveCount,
         (SELECT kind FROM cells c WHERE c.hash = l.hash AND c.layer = l.layer AND c.rank = 0) AS topKind
       FROM files f JOIN layers l ON l.hash = f.hash WHERE f.status = 'ok' ORDER BY f.path, l.layer`,
    )
    .iterate() as Iterable<LayerRow>;
}

/** NaN / ±Inf counts per (image, layer), where there are any, in file-path order. */
export function nonFiniteRows(db: Db): Iterable<NonFiniteRow> {
  return db
    .prepare(
      `SELECT f.rowid AS file, n.layer, n.nan, n.pos_inf AS posInf, n.neg_inf AS negInf
       FROM files f JOIN non_finite n ON n.hash = f.hash WHERE f.status = 'ok' ORDER BY f.path, n.layer`,
    )
    .iterate() as Iterable<NonFiniteRow>;
}

export function outlierRows(db: Db): Iterable<OutlierRow> {
  return db
    .prepare(`SELECT o.layer, o.dim, o.tokens FROM files f JOIN outlier_dims o ON o.hash = f.hash WHERE f.status = 'ok' ORDER BY f.path, o.layer, o.dim`)
    .iterate() as Iterable<OutlierRow>;
}

/** Token norms of every ok image and layer. `ordered`: in file-path order, for float sums; counts skip the sort. */
export function* normRows(db: Db, ordered: boolean): Iterable<NormRow> {
  const order = ordered ? ' ORDER BY f.path, l.layer' : '';
  const rows = db.prepare(`SELECT l.layer, l.norms FROM files f JOIN layers l ON l.hash = f.hash WHERE f.status = 'ok'${order}`).raw(true).iterate() as Iterable<[number, Buffer]>;
  for (const [layer, blob] of rows) yield [layer, blobToFloats(blob)];
}

/** One float32 BLOB of one ok image (by its path relative to the image root): `sql` takes (path, key). */
function imageBlob(db: Db, sql: string, rel: string, key: number): Float32Array | undefined {
  const blob = db.prepare(sql).pluck().get(rel, key) as Buffer | undefined;
  return blob ? blobToFloats(blob) : undefined;
}

/** One image's token norms at one layer. */
export function imageNorms(db: Db, rel: string, layer: number): Float32Array | undefined {
  return imageBlob(db, `SELECT l.norms FROM files f JOIN layers l ON l.hash = f.hash WHERE f.path = ? AND f.status = 'ok' AND l.layer = ?`, rel, layer);
}

export function sinkRows(db: Db): SinkRow[] {
  const rows = db.prepare(`SELECT s.kind, s.tokens FROM files f JOIN attn_sinks s ON s.hash = f.hash WHERE f.status = 'ok' ORDER BY f.path`).all() as { kind: SinkRow['kind']; tokens: string }[];
  return rows.map((r) => ({ kind: r.kind, tokens: JSON.parse(r.tokens) as number[] }));
}

export function headRows(db: Db): Iterable<HeadRow> {
  return db
    .prepare(
      `SELECT a.block, a.head, a.sink_share AS sinkShare, a.cls_share AS clsShare, a.register_share AS registerShare,
         a.cls_to_sink_share AS clsToSinkShare, s.size AS sinkSize FROM files f
       JOIN attn a ON a.hash = f.hash JOIN attn_sinks s ON s.hash = f.hash WHERE f.status = 'ok' ORDER BY f.path, a.block, a.head`,
    )
    .iterate() as Iterable<HeadRow>;
}

export function* clsRowRows(db: Db): Iterable<ClsRowRow> {
  const rows = db.prepare(`SELECT m.block, m.cls_row FROM files f JOIN attn_maps m ON m.hash = f.hash WHERE f.status = 'ok' ORDER BY f.path, m.block`).raw(true).iterate() as Iterable<[number, Buffer]>;
  for (const [block, blob] of rows) yield [block, blobToFloats(blob)];
}

/** One image's head-mean CLS → token attention row at one block (for per-image maps). */
export function imageClsRow(db: Db, rel: string, block: number): Float32Array | undefined {
  return imageBlob(db, `SELECT m.cls_row FROM files f JOIN attn_maps m ON m.hash = f.hash WHERE f.path = ? AND f.status = 'ok' AND m.block = ?`, rel, block);
}
