/**
 * The per-image store (SQLite): the source of truth for a scan. Results are keyed by image content hash,
 * so renamed files are not rescanned and changed ones are; each batch is one transaction, so a killed
 * scan leaves no half-written rows. scan.json is always recomputed from here (see analyze/summary.ts).
 */
import Database from 'better-sqlite3';
import type { ImageAttention, ImageFailure, ImageResult, KnownFile } from '../contracts/rows.js';
import { migrateStore } from './migrate.js';
import { columns, quoteId } from './sql.js';

export type { ImageFailure, ImageResult, KnownFile } from '../contracts/rows.js';

export type Db = Database.Database;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
  path TEXT PRIMARY KEY, hash TEXT, status TEXT NOT NULL CHECK (status IN ('ok', 'error')), reason TEXT
);
CREATE TABLE IF NOT EXISTS images (hash TEXT PRIMARY KEY, width INTEGER NOT NULL, height INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS layers (
  hash TEXT NOT NULL, layer INTEGER NOT NULL, median REAL NOT NULL, top1 REAL NOT NULL, top2 REAL NOT NULL,
  top3 REAL NOT NULL, massive_count INTEGER NOT NULL, norms BLOB NOT NULL, PRIMARY KEY (hash, layer)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cells (
  hash TEXT NOT NULL, layer INTEGER NOT NULL, rank INTEGER NOT NULL, token INTEGER NOT NULL, dim INTEGER NOT NULL,
  value REAL NOT NULL, kind TEXT NOT NULL, PRIMARY KEY (hash, layer, rank)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outlier_dims (
  hash TEXT NOT NULL, layer INTEGER NOT NULL, dim INTEGER NOT NULL, tokens INTEGER NOT NULL, PRIMARY KEY (hash, layer, dim)
) WITHOUT ROWID;
-- scan --attention (analyze/attention.ts): per image its sink tokens S, per block and head the attention mass
-- (mean over queries) on S, CLS and registers, and the head-mean CLS attention row (float32 [tokens]).
CREATE TABLE IF NOT EXISTS attn_sinks (hash TEXT PRIMARY KEY, kind TEXT NOT NULL, size INTEGER NOT NULL, tokens TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS attn (
  hash TEXT NOT NULL, block INTEGER NOT NULL, head INTEGER NOT NULL, sink_share REAL NOT NULL, cls_share REAL NOT NULL,
  register_share REAL NOT NULL, cls_to_sink_share REAL NOT NULL, PRIMARY KEY (hash, block, head)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS attn_maps (hash TEXT NOT NULL, block INTEGER NOT NULL, cls_row BLOB NOT NULL, PRIMARY KEY (hash, block)) WITHOUT ROWID;
-- NaN / ±Inf cells of an (image, layer), only where there are any (analyze/non-finite.ts).
CREATE TABLE IF NOT EXISTS non_finite (
  hash TEXT NOT NULL, layer INTEGER NOT NULL, nan INTEGER NOT NULL, pos_inf INTEGER NOT NULL, neg_inf INTEGER NOT NULL, PRIMARY KEY (hash, layer)
) WITHOUT ROWID;
`;

export function openStore(path: string): Db {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);
  migrateStore(db);
  return db;
}

/**
 * A finished store leaves WAL mode (the WAL is checkpointed into the file and removed): a reader then
 * needs no -wal/-shm files, so a scan folder on read-only media (or a copy without write access) opens
 * read-only. A resume switches back to WAL (openStore).
 */
export function settleStore(db: Db): void {
  db.pragma('journal_mode = DELETE');
}

export function getMeta(db: Db, key: string): string | undefined {
  return (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
}

export function setMeta(db: Db, key: string, value: string): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
}

/** Only cells worth keeping: the top 3 always, then anything massive, near-miss or outlier. */
function keep(rank: number, kind: string): boolean {
  return rank < 3 || kind !== 'top';
}

export type Writer = (results: ImageResult[], failures: ImageFailure[], known: KnownFile[]) => void;

/** One transaction per call: new results, failures, and files whose content is already in the store. */
export function makeWriter(db: Db): Writer {
  const file = db.prepare("INSERT OR REPLACE INTO files (path, hash, status, reason) VALUES (?, ?, ?, ?)");
  const image = db.prepare('INSERT OR REPLACE INTO images (hash, width, height) VALUES (?, ?, ?)');
  const layer = db.prepare('INSERT OR REPLACE INTO layers (hash, layer, median, top1, top2, top3, massive_count, norms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const cell = db.prepare('INSERT OR REPLACE INTO cells (hash, layer, rank, token, dim, value, kind) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const outlier = db.prepare('INSERT OR REPLACE INTO outlier_dims (hash, layer, dim, tokens) VALUES (?, ?, ?, ?)');
  const nonFinite = db.prepare('INSERT OR REPLACE INTO non_finite (hash, layer, nan, pos_inf, neg_inf) VALUES (?, ?, ?, ?, ?)');
  const writeAttention = attentionWriter(db);
  return db.transaction((results: ImageResult[], failures: ImageFailure[], known: KnownFile[]) => {
    for (const r of results) {
      image.run(r.hash, r.width, r.height);
      for (const l of r.layers) {
        const abs = (i: number) => Math.abs(l.cells[i]?.value ?? 0);
        const norms = Buffer.from(l.norms.buffer, l.norms.byteOffset, l.norms.byteLength);
        layer.run(r.hash, l.layer, l.median, abs(0), abs(1), abs(2), l.massiveCount, norms);
        for (const c of l.cells) if (keep(c.rank, c.kind)) cell.run(r.hash, l.layer, c.rank, c.token, c.dim, c.value, c.kind);
        for (const [dim, tokens] of l.outlierDims) outlier.run(r.hash, l.layer, dim, tokens);
        if (l.nonFinite) nonFinite.run(r.hash, l.layer, l.nonFinite.nan, l.nonFinite.posInf, l.nonFinite.negInf);
      }
      if (r.attention) writeAttention(r.hash, r.attention);
      file.run(r.path, r.hash, 'ok', null);
    }
    for (const f of failures) file.run(f.path, f.hash, 'error', f.reason);
    for (const k of known) file.run(k.path, k.hash, 'ok', null);
  });
}

function attentionWriter(db: Db): (hash: string, a: ImageAttention) => void {
  const sinks = db.prepare('INSERT OR REPLACE INTO attn_sinks (hash, kind, size, tokens) VALUES (?, ?, ?, ?)');
  const head = db.prepare('INSERT OR REPLACE INTO attn (hash, block, head, sink_share, cls_share, register_share, cls_to_sink_share) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const map = db.prepare('INSERT OR REPLACE INTO attn_maps (hash, block, cls_row) VALUES (?, ?, ?)');
  return (hash, a) => {
    sinks.run(hash, a.sinks.kind, a.sinks.tokens.length, JSON.stringify(a.sinks.tokens));
    for (const b of a.blocks) {
      b.heads.forEach((h, i) => head.run(hash, b.block, i, h.sink, h.cls, h.registers, h.clsToSink));
      map.run(hash, b.block, Buffer.from(b.clsRow.buffer, b.clsRow.byteOffset, b.clsRow.byteLength));
    }
  };
}

/** Content-keyed tables: every table with a `hash` column except `files`. */
function contentTables(db: Db): string[] {
  const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'files' AND name NOT LIKE 'sqlite_%'").pluck().all() as string[];
  return names.filter((t) => columns(db, 'main', t).includes('hash'));
}

/** End of a complete scan: drop analysed content that no file refers to any more. */
export function pruneOrphans(db: Db): void {
  db.transaction(() => {
    const orphan = "hash NOT IN (SELECT hash FROM files WHERE status = 'ok' AND hash IS NOT NULL)";
    for (const t of contentTables(db)) db.exec(`DELETE FROM ${quoteId(t)} WHERE ${orphan}`);
  })();
}
