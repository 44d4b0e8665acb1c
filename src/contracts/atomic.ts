import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { MassivitError, errorMessage } from './errors.js';

/** Errors of the disk, not of the program: a full or read-only file system, no permission. */
const DISK_ERRORS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  SQLITE_FULL: 'the disk is full',
  SQLITE_READONLY: 'the file system is read-only or not writable',
  SQLITE_CANTOPEN: 'the file system is read-only or not writable',
};

/** A one-line BAD_OUTPUT for a disk error while writing `path`, or undefined for any other error. */
export function diskError(err: unknown, path: string, kept: string): MassivitError | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why = code ? DISK_ERRORS[code] ?? DISK_ERRORS[code.replace(/^(SQLITE_[A-Z]+)_.*/, '$1')] : undefined;
  return why ? new MassivitError('BAD_OUTPUT', `cannot write ${path}: ${why} (${code}); ${kept}`, 'Free space or choose a writable folder, then run the command again') : undefined;
}

/**
 * Write beside the target, then rename: a reader never sees a half-written file, and a failed write (a
 * full disk) leaves the previous file as it was and no temp file behind.
 */
export function writeFileAtomic(path: string, text: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // e.g. the temp path is a folder or the file system went read-only: the error below says why
    }
    throw diskError(err, path, 'the previous file, if any, is unchanged') ?? new MassivitError('BAD_OUTPUT', `cannot write ${path}: ${errorMessage(err)}`);
  }
}

/** mkdir -p for an output folder, with the one-line message for a full or read-only disk. */
export function ensureOutputDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw diskError(err, dir, 'nothing was written') ?? new MassivitError('BAD_OUTPUT', `cannot create ${dir}: ${errorMessage(err)}`);
  }
}
