/**
 * Walk an image folder recursively, deterministically (sorted by relative path). Files with an image
 * extension, and files with no extension (sniffed at decode time), are inputs. Everything that could be
 * an input but cannot be read — broken links, link loops, unlistable folders, pipes and devices with an
 * image name — becomes a per-file error, never a crash and never a silent skip: a dataset scan must
 * account for every file.
 *
 * The walk runs on raw byte paths (readdir with `encoding: 'buffer'`): Linux file names are bytes, and a
 * name that is not valid UTF-8 would otherwise be mangled to U+FFFD and become unopenable.
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { MassivitError, errorMessage } from '../contracts/errors.js';
import { fileKind } from '../contracts/regular-file.js';
import type { ImageError } from '../contracts/rows.js';

const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif', '.heif', '.heic', '.bmp'];

export interface ImageEntry {
  /** The image path: relative to the scanned root, '/' separators, invalid UTF-8 bytes written `\xHH`. */
  path: string;
  /** What to open: the absolute path, or its exact on-disk bytes when the name is not valid UTF-8. */
  file: string | Buffer;
}

export interface WalkResult {
  entries: ImageEntry[];
  /** Files that could be inputs but cannot be read, with the same relative `path` as entries. */
  errors: ImageError[];
}

export interface WalkOptions {
  /** Folders never walked into, e.g. the scan's own --out folder when it lies inside the image folder. */
  exclude?: string[];
}

function isCandidate(name: string): boolean {
  const ext = extname(name).toLowerCase();
  return ext === '' ? !name.startsWith('.') : IMAGE_EXTENSIONS.includes(ext);
}

const strict = new TextDecoder('utf-8', { fatal: true });

/**
 * A file name as text: valid UTF-8 decodes as is; each byte of an invalid sequence becomes `\xHH`, so
 * the stored path stays printable, distinct per file, and shows where the name was not UTF-8.
 */
export function displayName(name: Buffer): { text: string; lossless: boolean } {
  try {
    return { text: strict.decode(name), lossless: true };
  } catch {
    let text = '';
    for (let i = 0; i < name.length; ) {
      // The shortest prefix that decodes is exactly one valid character; none means an invalid byte.
      const len = [1, 2, 3, 4].find((n) => i + n <= name.length && decodes(name.subarray(i, i + n)));
      if (len === undefined) {
        text += `\\x${name[i].toString(16).toUpperCase().padStart(2, '0')}`;
        i += 1;
      } else {
        text += strict.decode(name.subarray(i, i + len));
        i += len;
      }
    }
    return { text, lossless: false };
  }
}

function decodes(bytes: Buffer): boolean {
  try {
    strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function statReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'broken symbolic link: its target does not exist';
  if (code === 'ELOOP') return 'symbolic link loop';
  if (code === 'EACCES') return 'cannot read file: permission denied';
  if (code === 'ENAMETOOLONG') return 'path too long for the operating system';
  return `cannot stat: ${errorMessage(err)}`;
}

const SEP = Buffer.from(sep);

/** Appended to a non-UTF-8 name whose display form another file already has (read.ts undoes it). */
export const NON_UTF8_SUFFIX = ' (non-UTF-8 name)';

/**
 * A non-UTF-8 name shown as `\xHH` could equal a real name typed with a literal backslash; the store
 * keys files by path, so such a (rare) pair must not share one: the non-UTF-8 one gets a suffix.
 */
function disambiguate(entries: ImageEntry[], errors: ImageError[]): void {
  const nonUtf8 = (e: ImageEntry) => typeof e.file !== 'string';
  const taken = new Set([...entries.filter((e) => !nonUtf8(e)).map((e) => e.path), ...errors.map((e) => e.path)]);
  for (const e of entries) {
    if (!nonUtf8(e)) continue;
    while (taken.has(e.path)) e.path += NON_UTF8_SUFFIX;
    taken.add(e.path);
  }
}

export async function walkImages(root: string, opts: WalkOptions = {}): Promise<WalkResult> {
  const entries: ImageEntry[] = [];
  const errors: ImageError[] = [];
  const visited = new Set<string>();
  const excluded = new Set<string>();

  /** `ancestors`: real paths of the folders above, to tell a loop from a second path to one folder. */
  async function visit(dir: Buffer, relDir: string, displayDir: string, ancestors: string[]): Promise<void> {
    const fail = (reason: string) => errors.push({ path: relDir, reason });
    let names: Buffer[];
    let real: string;
    try {
      real = (await realpath(dir, { encoding: 'buffer' })).toString('latin1');
      if (excluded.has(real)) return;
      if (ancestors.includes(real)) return void fail('symbolic link loop: links back to a folder that contains it');
      if (visited.has(real)) return void fail('folder already scanned under another path (symbolic link): skipped so no image counts twice');
      visited.add(real);
      names = (await readdir(dir, { encoding: 'buffer' })).sort(Buffer.compare);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return void fail(code === 'EACCES' ? 'cannot list folder: permission denied' : `cannot list folder: ${errorMessage(err)}`);
    }
    for (const name of names) {
      const path = Buffer.concat([dir, SEP, name]);
      const shown = displayName(name);
      const rel = relDir ? `${relDir}/${shown.text}` : shown.text;
      const display = join(displayDir, shown.text);
      const lossless = Buffer.from(display).equals(path);
      try {
        const link = await lstat(path);
        const info = link.isSymbolicLink() ? await stat(path) : link;
        if (info.isDirectory()) await visit(path, rel, display, [...ancestors, real]);
        else if (!isCandidate(shown.text)) continue;
        else if (info.isFile()) entries.push({ path: rel, file: lossless ? display : path });
        // Never opened: reading a pipe blocks forever, reading /dev/zero never ends.
        else errors.push({ path: rel, reason: `${fileKind(info)}, not an image file` });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (!isCandidate(shown.text) && code !== 'ELOOP') continue;
        errors.push({ path: rel, reason: statReason(err) });
      }
    }
  }

  // '' would resolve to the current folder and scan it recursively: a missing value, not a choice.
  if (root.trim() === '') throw new MassivitError('BAD_OPTION', '--images is empty: expected an image folder');
  const top = resolve(root);
  let info: Stats;
  try {
    info = await stat(top);
  } catch (err) {
    throw new MassivitError('BAD_OPTION', `--images ${root} cannot be read: ${errorMessage(err)}`);
  }
  if (!info.isDirectory()) throw new MassivitError('BAD_OPTION', `--images ${root} is ${fileKind(info)}, not a folder`);
  for (const ex of opts.exclude ?? []) {
    try {
      excluded.add((await realpath(resolve(ex), { encoding: 'buffer' })).toString('latin1'));
    } catch {
      // An excluded folder that does not exist yet cannot hold anything to skip.
    }
  }
  await visit(Buffer.from(top), '', top, []);
  disambiguate(entries, errors);
  const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  entries.sort(byPath);
  errors.sort(byPath);
  return { entries, errors };
}
