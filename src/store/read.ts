/**
 * Opening a scan store only to read it (report, compare, map, intervene, merge's shards): never writes,
 * never leaves -wal/-shm files, works on read-only media. Finished stores are in rollback-journal mode
 * (settleStore) and open read-only directly. A WAL-mode store (written by an older version, or a scan
 * still running or killed) needs a -shm file that a read-only connection must create and cannot remove,
 * and that a read-only disk cannot hold: without a -wal file its whole content is in the main file, so a
 * copy of that is read in memory instead.
 */
import Database from 'better-sqlite3';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import type { Db } from './db.js';
import { presentAsCurrent } from './migrate.js';

/** Bytes 18 and 19 of the SQLite header: 1 = rollback journal, 2 = WAL. */
function isWal(path: string): boolean {
  const header = Buffer.alloc(20);
  const fd = openSync(path, 'r');
  try {
    return readSync(fd, header, 0, 20, 0) === 20 && header[18] === 2;
  } finally {
    closeSync(fd);
  }
}

export function openStoreForReading(path: string): Db {
  const db = open(path);
  presentAsCurrent(db);
  return db;
}

function open(path: string): Db {
  if (!isWal(path) || existsSync(`${path}-wal`)) return new Database(path, { readonly: true, fileMustExist: true });
  const bytes = readFileSync(path);
  bytes[18] = 1; // read the copy as a rollback-journal database (its content is complete without a WAL)
  bytes[19] = 1;
  return new Database(bytes, { readonly: true });
}
