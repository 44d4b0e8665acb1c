/**
 * What a report reads from a finished scan folder: scan.json (the summary) and, read-only, scan.sqlite
 * (per-image cells, for where massive activations sit and which photos show them best).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { MassivitError, errorMessage } from '../errors.js';
import { patchPosition, tokenRole, type TokenLayout, type TokenRole } from '../model/layout.js';
import type { PreprocessSpec } from '../model/preprocessor.js';
import type { Db } from '../store/db.js';
import { SCAN_JSON_VERSION, type ScanJson } from './scan-json.js';

export const STORE_FILE = 'scan.sqlite';
export const SUMMARY_FILE = 'scan.json';

/** The layout object the analysis code expects, rebuilt from scan.json. */
export function layoutOf(scan: ScanJson): TokenLayout {
  const t = scan.model.tokens;
  return { cls: t.cls, registers: t.registers, patchStart: t.patchStart, patchGrid: t.patchGrid, sequenceLength: scan.model.sequenceLength };
}

export function readScanJson(dir: string): ScanJson {
  const path = join(resolve(dir), SUMMARY_FILE);
  if (!existsSync(path)) {
    throw new MassivitError('BAD_OUTPUT', `${dir} holds no ${SUMMARY_FILE}: not a finished scan folder`, 'Pass the --out folder of a `massivit scan` run');
  }
  let scan: ScanJson;
  try {
    scan = JSON.parse(readFileSync(path, 'utf8')) as ScanJson;
  } catch (err) {
    throw new MassivitError('BAD_OUTPUT', `Cannot read ${path}: ${errorMessage(err)}`);
  }
  if (scan.version !== SCAN_JSON_VERSION || !scan.model || !Array.isArray(scan.layers)) {
    throw new MassivitError('BAD_OUTPUT', `${path} is not a scan.json of version ${SCAN_JSON_VERSION}`, 'Re-run the scan with this version of massivit');
  }
  return scan;
}

/**
 * The store for reading, or undefined when the folder has none (a copied scan.json alone still reports).
 * Opened writable when possible, only so that closing it checkpoints the WAL and removes the -wal/-shm
 * files a read-only connection would leave behind; nothing here writes.
 */
export function openStoreReadOnly(dir: string): Db | undefined {
  const path = join(resolve(dir), STORE_FILE);
  if (!existsSync(path)) return undefined;
  try {
    return new Database(path, { fileMustExist: true });
  } catch {
    return new Database(path, { readonly: true, fileMustExist: true });
  }
}

function meta(db: Db, key: string): string | undefined {
  return (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
}

/** Where the photos were (absolute), recorded by scan; undefined for older stores. */
export function imagesRoot(db: Db): string | undefined {
  return meta(db, 'imagesRoot');
}

/** The preprocessing recipe the scan used (part of the store's fingerprint). */
export function preprocessOf(db: Db): PreprocessSpec | undefined {
  return fingerprintOf(db)?.preprocess;
}

/** The pixel limit the scan decoded under (--max-pixels, in the fingerprint): pictures of a photo use it too. */
export function maxPixelsOf(db: Db): number | undefined {
  const limit = fingerprintOf(db)?.maxPixels;
  return typeof limit === 'number' ? limit : undefined;
}

function fingerprintOf(db: Db): { preprocess?: PreprocessSpec; maxPixels?: unknown } | undefined {
  const print = meta(db, 'fingerprint');
  if (!print) return undefined;
  try {
    return JSON.parse(print) as { preprocess?: PreprocessSpec; maxPixels?: unknown };
  } catch {
    return undefined;
  }
}

export type CellKindShown = 'massive' | 'near';

/** Images (files) with a cell of `kind` at each patch position, any layer: grid[row][col]. */
export function positionCounts(db: Db, layout: TokenLayout, kind: CellKindShown): number[][] {
  const [rows, cols] = layout.patchGrid;
  const grid = Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
  const hits = db
    .prepare(
      `SELECT c.token, COUNT(DISTINCT f.path) AS n FROM files f JOIN cells c ON c.hash = f.hash
       WHERE f.status = 'ok' AND c.kind = ? AND c.token >= ? GROUP BY c.token`,
    )
    .all(kind, layout.patchStart) as { token: number; n: number }[];
  for (const h of hits) {
    const pos = patchPosition(layout, h.token);
    if (pos && pos[0] < rows) grid[pos[0]][pos[1]] = h.n;
  }
  return grid;
}

export interface ImageCell {
  layer: number;
  token: number;
  dim: number;
  value: number;
  role: TokenRole;
  position?: [number, number];
}

export interface TopImage {
  path: string;
  maxAbs: number;
  /** The strongest cell of this kind in the image. */
  top: ImageCell;
  /** Distinct patch positions holding a cell of this kind at any layer. */
  patches: [number, number][];
  /** Distinct CLS/register tokens holding one. */
  specialTokens: number[];
}

/** The `limit` images with the largest |a| among their cells of `kind`, largest first. */
export function topImages(db: Db, layout: TokenLayout, kind: CellKindShown, limit: number): TopImage[] {
  const best = db
    .prepare(
      `SELECT f.path, MAX(ABS(c.value)) AS m FROM files f JOIN cells c ON c.hash = f.hash
       WHERE f.status = 'ok' AND c.kind = ? GROUP BY f.path ORDER BY m DESC, f.path LIMIT ?`,
    )
    .all(kind, limit) as { path: string; m: number }[];
  const cells = db.prepare(
    `SELECT c.layer, c.token, c.dim, c.value FROM files f JOIN cells c ON c.hash = f.hash
     WHERE f.path = ? AND c.kind = ? ORDER BY ABS(c.value) DESC, c.layer, c.token`,
  );
  return best.map(({ path, m }) => {
    const rows = (cells.all(path, kind) as { layer: number; token: number; dim: number; value: number }[]).map((r) => toCell(layout, r));
    const patches = new Map<string, [number, number]>();
    const special = new Set<number>();
    for (const r of rows) {
      if (r.position) patches.set(r.position.join(','), r.position);
      else special.add(r.token);
    }
    return { path, maxAbs: m, top: rows[0], patches: [...patches.values()], specialTokens: [...special].sort((a, b) => a - b) };
  });
}

function toCell(layout: TokenLayout, r: { layer: number; token: number; dim: number; value: number }): ImageCell {
  const position = patchPosition(layout, r.token);
  return { ...r, role: tokenRole(layout, r.token), ...(position ? { position } : {}) };
}

export type RoleCounts = Record<TokenRole, number>;

/** Cells of `kind` by token role, over all files and layers (a duplicate file counts again, as in scan.json). */
export function roleCounts(db: Db, layout: TokenLayout, kind: CellKindShown): RoleCounts {
  const counts: RoleCounts = { cls: 0, register: 0, patch: 0 };
  const rows = db
    .prepare(`SELECT c.token, COUNT(*) AS n FROM files f JOIN cells c ON c.hash = f.hash WHERE f.status = 'ok' AND c.kind = ? GROUP BY c.token`)
    .all(kind) as { token: number; n: number }[];
  for (const r of rows) counts[tokenRole(layout, r.token)] += r.n;
  return counts;
}

/** Role counts from scan.json alone (image × group occurrences), for a folder without its store. */
export function roleCountsFromSummary(scan: ScanJson, kind: CellKindShown): RoleCounts {
  const counts: RoleCounts = { cls: 0, register: 0, patch: 0 };
  for (const g of kind === 'massive' ? scan.massive : scan.nearMisses) counts[g.role] += g.images;
  return counts;
}

/** The image with the largest top-1 |a| at `layer` (ties: first path). */
export function strongestImage(db: Db, layer: number): { path: string; top1: number } | undefined {
  return db
    .prepare(
      `SELECT f.path, l.top1 FROM files f JOIN layers l ON l.hash = f.hash
       WHERE f.status = 'ok' AND l.layer = ? ORDER BY l.top1 DESC, f.path LIMIT 1`,
    )
    .get(layer) as { path: string; top1: number } | undefined;
}
