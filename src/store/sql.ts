import type Database from 'better-sqlite3';

/** The column names of `table` in the attached database `schema` ('main', a merge's 'shard'). */
export function columns(db: Database.Database, schema: string, table: string): string[] {
  return db.prepare('SELECT name FROM pragma_table_info(?, ?)').pluck().all(table, schema) as string[];
}

/** An SQL identifier (table or column name read from a store's own schema), quoted. */
export function quoteId(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
