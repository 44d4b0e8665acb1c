/**
 * Copy the rows of one scan store (a shard) into another. Every table except `meta` is copied — found from
 * the shard's own schema, so tables added in later versions travel too — with INSERT OR IGNORE: rows keyed
 * by image content hash are identical wherever the same image was analysed, and file rows must not
 * disagree (checked first). One transaction per shard, so an interrupted merge leaves no partial shard.
 */
import { basename } from 'node:path';
import { MassivitError, errorMessage } from '../contracts/errors.js';
import type { Db } from './db.js';
import { columns, quoteId } from './sql.js';
import { currentColumns } from './migrate.js';

interface TableInfo {
  name: string;
  sql: string;
}

function tables(db: Db, schema: string): TableInfo[] {
  return db
    .prepare(`SELECT name, sql FROM ${schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'meta' ORDER BY name`)
    .all() as TableInfo[];
}

/** The first file whose row differs between the target and the attached shard, if any. */
function conflictingFile(db: Db): { path: string } | undefined {
  return db
    .prepare(
      `SELECT s.path FROM shard.files s JOIN main.files m ON m.path = s.path
       WHERE m.hash IS NOT s.hash OR m.status != s.status OR m.reason IS NOT s.reason LIMIT 1`,
    )
    .get() as { path: string } | undefined;
}

/** Copies all rows of the store at `shardPath` into `target` (which must hold the scan schema). */
export function copyShardRows(target: Db, shardPath: string, shown: string): void {
  try {
    target.prepare('ATTACH DATABASE ? AS shard').run(shardPath);
  } catch (err) {
    throw new MassivitError('BAD_OPTION', `${shown}: cannot read its ${basename(shardPath)}: ${errorMessage(err)}`, 'A shard in WAL mode on read-only media: copy it to a writable folder first');
  }
  try {
    target.transaction(() => {
      const conflict = conflictingFile(target);
      if (conflict) {
        throw new MassivitError('BAD_OUTPUT', `${shown} holds other results for ${conflict.path} than an earlier shard: these stores come from different image folders`, 'Merge only the shards of one dataset (same --images root)');
      }
      for (const t of tables(target, 'shard')) {
        const existing = columns(target, 'main', t.name);
        if (existing.length === 0) target.exec(t.sql); // a table this version does not create: keep it as the shard has it
        const cols = currentColumns(target, 'shard', t.name); // a shard written before the rename reads in today's names
        const missing = cols.names.filter((c) => !columns(target, 'main', t.name).includes(c));
        if (missing.length > 0) throw new MassivitError('BAD_OUTPUT', `${shown}: table ${t.name} has columns this version does not know (${missing.join(', ')})`, 'Merge with the massivit version that wrote the shards');
        target.exec(`INSERT OR IGNORE INTO main.${quoteId(t.name)} (${cols.names.map(quoteId).join(', ')}) SELECT ${cols.select.join(', ')} FROM shard.${quoteId(t.name)}`);
      }
    })();
  } finally {
    target.exec('DETACH DATABASE shard');
  }
}
