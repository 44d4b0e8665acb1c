/**
 * The one way an image file's bytes are read: scan's decode stage, thumbnails, the feature × token view
 * and maps all come here, so a file is opened the same way whoever asks.
 *
 * - Only regular files are opened. A pipe would block the read forever and /dev/zero never ends, so the
 *   kind is checked before opening, and again on the open descriptor (the name could be swapped between).
 * - Reads are bounded: a file above `maxBytes` is refused from its size, before any byte is read, and
 *   at most its size + 1 bytes are read (a file still being written is refused, not read without end).
 * - Paths may be raw bytes. A Linux file name is bytes; one that is not valid UTF-8 is stored as its
 *   display form (`\xHH` per invalid byte, see walk.ts `displayName`), which does not name the file.
 *   `storedImagePath` maps a stored relative path back to the bytes on disk.
 */
import { constants, type Stats } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { MassivitError } from '../contracts/errors.js';
import { fileKind } from '../contracts/regular-file.js';
import { displayName, NON_UTF8_SUFFIX } from './walk.js';

/** A path to open: text, or the exact on-disk bytes when the text form would not name the file. */
export type FilePath = string | Buffer;

/** No image format a ViT scan reads comes near this; a larger "image" is refused, not read into memory. */
const MAX_IMAGE_BYTES = 1024 ** 3;

const notRegular = (info: Stats) => new MassivitError('BAD_IMAGE', `${fileKind(info)}, not a regular file: not read`);
const tooLarge = (size: number, maxBytes: number) =>
  new MassivitError('BAD_IMAGE', `file too large to read: ${size} bytes, above the ${maxBytes}-byte limit for one image`);

/**
 * The whole file, if it is a regular file of at most `maxBytes`. File-system errors keep their `code`
 * (ENOENT, EACCES… for describeImageError); a refused kind, size or growth is a BAD_IMAGE error.
 */
export async function readImageFile(path: FilePath, maxBytes = MAX_IMAGE_BYTES): Promise<Buffer> {
  const before = await stat(path);
  if (!before.isFile()) throw notRegular(before);
  if (before.size > maxBytes) throw tooLarge(before.size, maxBytes);
  // O_NONBLOCK: should a pipe be swapped in after the check, opening it must not wait for a writer.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw notRegular(info);
    if (info.size > maxBytes) throw tooLarge(info.size, maxBytes);
    // One byte more than the size tells a file that is still growing from one that is complete.
    const bytes = Buffer.allocUnsafe(info.size + 1);
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break; // shrank while being read: what is there is what the decoder gets
      filled += bytesRead;
    }
    if (filled > info.size) throw new MassivitError('BAD_IMAGE', 'file grew while it was read (still being written?): not read');
    return bytes.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/**
 * The file a stored relative path (as scan.json and the store write it) names under `root`. A UTF-8
 * name is the path itself. A stored form with `\xHH` escapes names no file, so the walk is re-derived
 * for that one path: each component is matched against its folder's listing through the walker's own
 * `displayName`, and the raw bytes are returned. Nothing found: the text path, so the caller's read
 * fails with ENOENT like any missing photo.
 */
export async function storedImagePath(root: string, rel: string): Promise<FilePath> {
  const text = join(root, rel);
  if (!rel.includes('\\x')) return text;
  const literal = await exists(text);
  if (literal) return text; // a real name with a literal "\x" in it
  // walk.ts `disambiguate`: a non-UTF-8 path whose display form is taken gets one suffix per clash, in
  // walk order (depth first, names in byte order), a UTF-8 file of that form counting as taken.
  for (let base = rel, suffixes = 0; ; base = base.slice(0, -NON_UTF8_SUFFIX.length), suffixes++) {
    const taken = suffixes > 0 && (await exists(join(root, base))) ? 1 : 0;
    const found = (await shownAs(Buffer.from(resolve(root)), base.split('/')))[suffixes - taken];
    if (found) return found;
    if (!base.endsWith(NON_UTF8_SUFFIX)) return text;
  }
}

async function exists(path: FilePath): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Every non-UTF-8 byte path under `dir` whose components display as `parts`, in walk order. */
async function shownAs(dir: Buffer, parts: string[], lossy = false): Promise<Buffer[]> {
  let names: Buffer[];
  try {
    names = (await readdir(dir, { encoding: 'buffer' })).sort(Buffer.compare);
  } catch {
    return [];
  }
  const found: Buffer[] = [];
  for (const name of names) {
    const shown = displayName(name);
    if (shown.text !== parts[0]) continue;
    const path = Buffer.concat([dir, Buffer.from(sep), name]);
    if (parts.length > 1) found.push(...(await shownAs(path, parts.slice(1), lossy || !shown.lossless)));
    else if (lossy || !shown.lossless) found.push(path);
  }
  return found;
}

/** The bytes of a stored image path under `root` (see storedImagePath and readImageFile). */
export async function readStoredImage(root: string, rel: string, maxBytes = MAX_IMAGE_BYTES): Promise<Buffer> {
  return readImageFile(await storedImagePath(root, rel), maxBytes);
}

