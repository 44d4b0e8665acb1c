/**
 * Stores written before the vocabulary was unified (up to commit 3a90af7) name two attention columns and
 * one cell kind differently: `attn.reg_share`, `attn.cls_sink_share` and the kind `near` are now
 * `register_share`, `cls_to_sink_share` and `near-miss`. A writable store is migrated in place once; a
 * read-only one gets TEMP views named like its tables (SQLite looks up `temp` before `main`), so every
 * query is written in the current names only; a merge reads an old shard through the same expressions.
 */
import type Database from 'better-sqlite3';
import { columns, quoteId } from './sql.js';

/** The store's connection type, named here and not imported from db.ts, which calls migrateStore. */
type Db = Database.Database;

const RENAMED: Record<string, Record<string, string>> = {
  attn: { reg_share: 'register_share', cls_sink_share: 'cls_to_sink_share' },
};
const KIND_COLUMN: Record<string, string> = { cells: 'kind', attn_sinks: 'kind' };
const OLD_NEAR_MISS = 'near';

/** Whether the store in `schema` has the old names (its attention table is the tell: every store has one). */
export function isOldStore(db: Db, schema = 'main'): boolean {
  return columns(db, schema, 'attn').includes('reg_share');
}

/**
 * The columns of `table` in `schema`, in current names, and the SELECT expression for each (the old
 * column renamed, the old kind value mapped). Identity for a current store.
 */
export function currentColumns(db: Db, schema: string, table: string): { names: string[]; select: string[] } {
  const old = isOldStore(db, schema);
  const names: string[] = [];
  const select: string[] = [];
  for (const c of columns(db, schema, table)) {
    const name = (old && RENAMED[table]?.[c]) || c;
    names.push(name);
    if (old && KIND_COLUMN[table] === c) select.push(`CASE ${quoteId(c)} WHEN '${OLD_NEAR_MISS}' THEN 'near-miss' ELSE ${quoteId(c)} END AS ${quoteId(c)}`);
    else select.push(name === c ? quoteId(c) : `${quoteId(c)} AS ${quoteId(name)}`);
  }
  return { names, select };
}

const TABLES = [...new Set([...Object.keys(RENAMED), ...Object.keys(KIND_COLUMN)])];

/** A writable store: rename in place, in one transaction (a no-op on a current store). */
export function migrateStore(db: Db): void {
  if (!isOldStore(db)) return;
  db.transaction(() => {
    for (const [table, renames] of Object.entries(RENAMED)) {
      for (const [from, to] of Object.entries(renames)) db.exec(`ALTER TABLE ${quoteId(table)} RENAME COLUMN ${quoteId(from)} TO ${quoteId(to)}`);
    }
    for (const [table, column] of Object.entries(KIND_COLUMN)) {
      db.prepare(`UPDATE ${quoteId(table)} SET ${quoteId(column)} = 'near-miss' WHERE ${quoteId(column)} = ?`).run(OLD_NEAR_MISS);
    }
  })();
}

/** A read-only store: current names through TEMP views over the old tables (nothing is written to the file). */
export function presentAsCurrent(db: Db): void {
  if (!isOldStore(db)) return;
  for (const table of TABLES) {
    const { select } = currentColumns(db, 'main', table);
    db.exec(`CREATE TEMP VIEW ${quoteId(table)} AS SELECT ${select.join(', ')} FROM main.${quoteId(table)}`);
  }
}
