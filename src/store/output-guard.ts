/**
 * Checks on an existing --out folder before anything is written to it: a scan writes only into a folder
 * that is new, empty, or holds a store massivit wrote itself. A `scan.sqlite` from another program (or a
 * corrupt one) is refused untouched rather than "upgraded" by adding our tables to it.
 */
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { MassivitError, errorMessage } from '../errors.js';

const HINT = 'Choose a new folder, or the folder of an earlier scan to resume it';

export function assertOutputFolder(dir: string, shown: string): void {
  if (!statSync(dir).isDirectory()) throw new MassivitError('BAD_OUTPUT', `--out ${shown} is a file, not a folder: refusing to write there`, HINT);
}

/** The store must be a SQLite file with massivit's meta fingerprint; nothing is written while checking. */
export function assertOwnStore(storePath: string, shown: string): void {
  let db: Database.Database | undefined;
  let fingerprint: unknown;
  try {
    db = new Database(storePath, { fileMustExist: true });
    fingerprint = (db.prepare("SELECT value FROM meta WHERE key = 'fingerprint'").get() as { value?: unknown } | undefined)?.value;
  } catch (err) {
    throw new MassivitError('BAD_OUTPUT', `--out ${shown} holds a scan.sqlite that is not a massivit scan (${errorMessage(err)}): refusing to modify it`, HINT);
  } finally {
    db?.close();
  }
  if (typeof fingerprint !== 'string') {
    throw new MassivitError('BAD_OUTPUT', `--out ${shown} holds a scan.sqlite without a massivit fingerprint: refusing to modify it`, HINT);
  }
}
