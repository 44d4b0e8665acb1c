/**
 * The per-image store (SQLite): the source of truth for a scan. Results are keyed by image content hash,
 * so renamed files are not rescanned and changed ones are; each batch is one transaction, so a killed
 * scan leaves no half-written rows. scan.json is always recomputed from here (see analyze/summary.ts).
 */
import Database from 'better-sqlite3';
import type { LayerObservation } from '../analyze/observe.js';

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
`;

export function openStore(path: string): Db {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);
  return db;
}

export function getMeta(db: Db, key: string): string | undefined {
  return (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
}

export function setMeta(db: Db, key: string, value: string): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
}

export interface ImageResult {
  path: string;
  hash: string;
  width: number;
  height: number;
  layers: LayerObservation[];
}

export interface ImageFailure {
  path: string;
  hash: string | null;
  reason: string;
}

/** Only cells worth keeping: the top 3 always, then anything massive, near-miss or outlier. */
function keep(rank: number, kind: string): boolean {
  return rank < 3 || kind !== 'top';
}

export interface KnownFile {
  path: string;
  hash: string;
}

export type Writer = (results: ImageResult[], failures: ImageFailure[], known: KnownFile[]) => void;

/** One transaction per call: new results, failures, and files whose content is already in the store. */
export function makeWriter(db: Db): Writer {
  const file = db.prepare("INSERT OR REPLACE INTO files (path, hash, status, reason) VALUES (?, ?, ?, ?)");
  const image = db.prepare('INSERT OR REPLACE INTO images (hash, width, height) VALUES (?, ?, ?)');
  const layer = db.prepare('INSERT OR REPLACE INTO layers (hash, layer, median, top1, top2, top3, massive_count, norms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const cell = db.prepare('INSERT OR REPLACE INTO cells (hash, layer, rank, token, dim, value, kind) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const outlier = db.prepare('INSERT OR REPLACE INTO outlier_dims (hash, layer, dim, tokens) VALUES (?, ?, ?, ?)');
  return db.transaction((results: ImageResult[], failures: ImageFailure[], known: KnownFile[]) => {
    for (const r of results) {
      image.run(r.hash, r.width, r.height);
      for (const l of r.layers) {
        const abs = (i: number) => Math.abs(l.cells[i]?.value ?? 0);
        const norms = Buffer.from(l.norms.buffer, l.norms.byteOffset, l.norms.byteLength);
        layer.run(r.hash, l.layer, l.median, abs(0), abs(1), abs(2), l.massiveCount, norms);
        for (const c of l.cells) if (keep(c.rank, c.kind)) cell.run(r.hash, l.layer, c.rank, c.token, c.dim, c.value, c.kind);
        for (const [dim, tokens] of l.outlierDims) outlier.run(r.hash, l.layer, dim, tokens);
      }
      file.run(r.path, r.hash, 'ok', null);
    }
    for (const f of failures) file.run(f.path, f.hash, 'error', f.reason);
    for (const k of known) file.run(k.path, k.hash, 'ok', null);
  });
}

/** Marks a file whose content was already analysed (resume, or a renamed copy). */
export function hasImage(db: Db): (hash: string) => boolean {
  const stmt = db.prepare('SELECT 1 FROM images WHERE hash = ?');
  return (hash) => stmt.get(hash) !== undefined;
}

/** Drop files no longer in the folder and analysed content no file refers to. */
export function pruneStore(db: Db, currentPaths: Set<string>): void {
  db.transaction(() => {
    const paths = db.prepare('SELECT path FROM files').pluck().all() as string[];
    const del = db.prepare('DELETE FROM files WHERE path = ?');
    for (const p of paths) if (!currentPaths.has(p)) del.run(p);
    const orphan = 'hash NOT IN (SELECT hash FROM files WHERE status = \'ok\')';
    for (const t of ['images', 'layers', 'cells', 'outlier_dims']) db.exec(`DELETE FROM ${t} WHERE ${orphan}`);
  })();
}
