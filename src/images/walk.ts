/**
 * Walk an image folder recursively, deterministically (sorted by relative path). Files with an image
 * extension, and files with no extension (sniffed at decode time), are inputs. Broken links and loops
 * become per-file errors, never a crash.
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import { errorMessage } from '../errors.js';

export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif', '.heif', '.heic', '.bmp'];

export interface ImageEntry {
  path: string;
  /** Path relative to the scanned root, with '/' separators. */
  rel: string;
}

export interface WalkError {
  path: string;
  rel: string;
  reason: string;
}

export interface WalkResult {
  entries: ImageEntry[];
  errors: WalkError[];
}

function isCandidate(name: string): boolean {
  const ext = extname(name).toLowerCase();
  return ext === '' ? !name.startsWith('.') : IMAGE_EXTENSIONS.includes(ext);
}

export async function walkImages(root: string): Promise<WalkResult> {
  const entries: ImageEntry[] = [];
  const errors: WalkError[] = [];
  const visited = new Set<string>();
  const rel = (p: string) => relative(root, p).split('\\').join('/');

  async function visit(dir: string): Promise<void> {
    const real = await realpath(dir);
    if (visited.has(real)) {
      errors.push({ path: dir, rel: rel(dir), reason: 'symbolic link loop: folder already visited' });
      return;
    }
    visited.add(real);
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch (err) {
      errors.push({ path: dir, rel: rel(dir), reason: `cannot list folder: ${errorMessage(err)}` });
      return;
    }
    for (const name of names) {
      const path = join(dir, name);
      try {
        const link = await lstat(path);
        const info = link.isSymbolicLink() ? await stat(path) : link;
        if (info.isDirectory()) await visit(path);
        else if (info.isFile() && isCandidate(name)) entries.push({ path, rel: rel(path) });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (!isCandidate(name) && code !== 'ELOOP') continue;
        const reason = code === 'ENOENT' ? 'broken symbolic link' : code === 'ELOOP' ? 'symbolic link loop' : `cannot stat: ${errorMessage(err)}`;
        errors.push({ path, rel: rel(path), reason });
      }
    }
  }

  try {
    if (!(await stat(root)).isDirectory()) throw new Error('not a folder');
  } catch (err) {
    throw new Error(`Image folder ${root} cannot be read: ${errorMessage(err)}`);
  }
  await visit(root);
  entries.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return { entries, errors };
}
