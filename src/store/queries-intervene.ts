/** The store query `intervene` needs: which cells a finished scan flagged at one layer. */
import type { Db } from './db.js';

export interface StoredCell {
  token: number;
  dim: number;
}

/** Massive cells of the layer found by the scan (every image's), else its near-miss cells; undefined when neither. */
export function scanCells(db: Db, layer: number): { cells: StoredCell[]; kind: 'massive' | 'near-miss' } | undefined {
  for (const kind of ['massive', 'near-miss'] as const) {
    const cells = db
      .prepare(`SELECT DISTINCT c.token, c.dim FROM files f JOIN cells c ON c.hash = f.hash WHERE f.status = 'ok' AND c.layer = ? AND c.kind = ? ORDER BY c.token, c.dim`)
      .all(layer, kind) as StoredCell[];
    if (cells.length > 0) return { cells, kind };
  }
  return undefined;
}
