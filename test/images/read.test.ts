/**
 * The one image reader: regular files only (a pipe or a device is refused without being opened for a
 * read that could block or never end), reads bounded by size, and stored `\xHH` paths mapped back to the
 * raw bytes on disk — checked against the walker itself, which is what wrote those paths.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readImageFile, readStoredImage, storedImagePath } from '../../src/images/read.js';
import { walkImages } from '../../src/images/walk.js';
import { tempDir } from '../helpers/env.js';

const bytesPath = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => Buffer.from(p as string)));

/** Writes `path` (a byte path); false when the file system refuses non-UTF-8 names. */
function writeRaw(path: Buffer, content: Buffer): boolean {
  try {
    writeFileSync(path, content);
    return true;
  } catch (err) {
    console.warn(`SKIPPING a non-UTF-8 name case: this file system refuses byte names (${(err as Error).message})`);
    return false;
  }
}

describe('readImageFile', () => {
  it('reads a regular file whole, by text or byte path', async () => {
    const root = tempDir('read');
    const content = Buffer.from('0123456789'.repeat(1000));
    writeFileSync(join(root, 'a.png'), content);
    expect((await readImageFile(join(root, 'a.png'))).equals(content)).toBe(true);
    expect((await readImageFile(Buffer.from(join(root, 'a.png')))).equals(content)).toBe(true);
  });

  it('refuses a file above the size bound from its size, without reading it', async () => {
    const root = tempDir('read');
    const path = join(root, 'sparse.png');
    writeFileSync(path, '');
    truncateSync(path, 5000); // sparse: nothing to read
    await expect(readImageFile(path, 4999)).rejects.toThrow(/^file too large to read: 5000 bytes, above the 4999-byte limit for one image$/);
    expect((await readImageFile(path, 5000)).length).toBe(5000);
  });

  it('refuses a character device and a folder', async () => {
    await expect(readImageFile('/dev/zero')).rejects.toThrow(/^a character device, not a regular file: not read$/);
    await expect(readImageFile(tempDir('read'))).rejects.toThrow(/^a folder, not a regular file: not read$/);
  });

  it('refuses a named pipe without blocking on it', async (ctx) => {
    const pipe = join(tempDir('read'), 'pipe.png');
    try {
      execFileSync('mkfifo', [pipe]);
    } catch (err) {
      console.warn(`SKIPPING the named-pipe case: mkfifo failed (${(err as Error).message.split('\n')[0]})`);
      return ctx.skip();
    }
    // No writer ever opens the pipe: a blocking open or read would hang this test until its timeout.
    await expect(readImageFile(pipe)).rejects.toThrow(/^a named pipe \(FIFO\), not a regular file: not read$/);
  });
});

describe('storedImagePath: the stored relative path back to the bytes on disk', () => {
  it('maps every path the walker stores, non-UTF-8 names and clashes included, to the file it walked', async () => {
    const root = tempDir('read-names');
    const made = [
      writeRaw(bytesPath(root, '/caf', [0xe9], '.png'), Buffer.from('latin-1 name')),
      writeRaw(bytesPath(root, '/caf\\xE9.png'), Buffer.from('real name that looks like the escape')),
      // Two different non-UTF-8 names with the same display form: one literal "\xFF" then 0xFE, one 0xFF 0xFE.
      writeRaw(bytesPath(root, '/\\xFF', [0xfe], '.png'), Buffer.from('escape then byte')),
      writeRaw(bytesPath(root, '/', [0xff, 0xfe], '.png'), Buffer.from('two bytes')),
      (() => {
        try {
          mkdirSync(bytesPath(root, '/dir-', [0xc3, 0x28]));
          mkdirSync(join(root, 'dir-\\xC3('));
        } catch {
          return false;
        }
        return writeRaw(bytesPath(root, '/dir-', [0xc3, 0x28], '/inner.png'), Buffer.from('in a non-UTF-8 folder')) &&
          writeRaw(bytesPath(root, '/dir-\\xC3(/inner.png'), Buffer.from('in the look-alike folder'));
      })(),
    ];
    writeFileSync(join(root, 'plain.png'), 'plain');
    if (!made.every(Boolean)) return;
    const { entries, errors } = await walkImages(root);
    expect(errors).toEqual([]);
    expect(entries.map((e) => e.path)).toEqual([
      '\\xFF\\xFE.png',
      '\\xFF\\xFE.png (non-UTF-8 name)',
      'caf\\xE9.png',
      'caf\\xE9.png (non-UTF-8 name)',
      'dir-\\xC3(/inner.png',
      'dir-\\xC3(/inner.png (non-UTF-8 name)',
      'plain.png',
    ]);
    for (const e of entries) {
      const resolved = await storedImagePath(root, e.path);
      expect(Buffer.from(resolved).equals(Buffer.from(e.file)), e.path).toBe(true);
      expect((await readStoredImage(root, e.path)).equals(await readImageFile(e.file)), e.path).toBe(true);
    }
  });

  it('a stored path that names nothing fails as a missing file (ENOENT)', async () => {
    const root = tempDir('read-names');
    await expect(readStoredImage(root, 'gone\\xE9.png')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(readStoredImage(root, 'gone.png')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
