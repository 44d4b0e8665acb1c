/**
 * What reports and maps read from a finished scan's store, read-only: per-image cells (where massive
 * activations sit and which photos show them best), the recorded image root and preprocessing.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { STORE_FILE } from '../contracts/files.js';
import { MassivitError, errorMessage } from '../contracts/errors.js';
import { patchPosition, tokenRole, type TokenLayout, type TokenRole } from '../model/layout.js';
import type { PreprocessSpec } from '../model/preprocessor.js';
import { getMeta, type Db } from './db.js';
import { IMAGES_ROOT_KEY } from './images-root.js';
import { openStoreForReading } from './read.js';

/**
 * The store for reading, or undefined when the folder has none (a copied scan.json alone still reports).
 * Read-only, so a scan folder on read-only media or without write access reports (store/read.ts).
 */
export function openStoreReadOnly(dir: string): Db | undefined {
  const path = join(resolve(dir), STORE_FILE);
  if (!existsSync(path)) return undefined;
  try {
    return openStoreForReading(path);
  } catch (err) {
    throw new MassivitError('BAD_OUTPUT', `cannot read ${path}: ${errorMessage(err)}`, 'Pass the --out folder of a finished `massivit scan`');
  }
}

/** Where the photos were (absolute), recorded by scan; undefined for older stores. */
export function imagesRoot(db: Db): string | undefined {
  return getMeta(db, IMAGES_ROOT_KEY);
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
  const print = getMeta(db, 'fingerprint');
  if (!print) return undefined;
  try {
    return JSON.parse(print) as { preprocess?: PreprocessSpec; maxPixels?: unknown };
  } catch {
    return undefined;
  }
}

export type CellKindShown = 'massive' | 'near-miss';

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

interface ImageCell {
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

/** Whether `rel` is a successfully scanned file of this store. */
export function isScannedImage(db: Db, rel: string): boolean {
  return db.prepare("SELECT 1 FROM files WHERE path = ? AND status = 'ok'").get(rel) !== undefined;
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
