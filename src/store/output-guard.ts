/**
 * Checks on an existing --out folder before anything is written to it: a scan writes only into a folder
 * that is new, empty, or holds a store massivit wrote itself. A `scan.sqlite` from another program (or a
 * corrupt one) is refused untouched rather than "upgraded" by adding our tables to it.
 */
import type Database from 'better-sqlite3';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MassivitError, errorMessage } from '../contracts/errors.js';
import { getMeta } from './db.js';
import { openStoreForReading } from './read.js';

const HINT = 'Choose a new folder, or the folder of an earlier scan to resume it';

/** An existing --out must be a folder that is empty or holds massivit's own `storeFile`. */
export function assertOutputFolder(dir: string, shown: string, storeFile: string): void {
  if (!statSync(dir).isDirectory()) throw new MassivitError('BAD_OUTPUT', `--out ${shown} is a file, not a folder: refusing to write there`, HINT);
  const names = readdirSync(dir);
  if (names.includes(storeFile)) assertOwnStore(join(dir, storeFile), shown);
  else if (names.length > 0) throw new MassivitError('BAD_OUTPUT', `--out ${shown} is not empty and holds no ${storeFile}: refusing to write into it`, HINT);
}

/** The store must be a SQLite file with massivit's meta fingerprint; nothing is written while checking. */
function assertOwnStore(storePath: string, shown: string): void {
  let db: Database.Database | undefined;
  let fingerprint: string | undefined;
  try {
    db = openStoreForReading(storePath);
    fingerprint = getMeta(db, 'fingerprint');
  } catch (err) {
    throw new MassivitError('BAD_OUTPUT', `--out ${shown} holds a scan.sqlite that is not a massivit scan (${errorMessage(err)}): refusing to modify it`, HINT);
  } finally {
    db?.close();
  }
  if (typeof fingerprint !== 'string') {
    throw new MassivitError('BAD_OUTPUT', `--out ${shown} holds a scan.sqlite without a massivit fingerprint: refusing to modify it`, HINT);
  }
}
