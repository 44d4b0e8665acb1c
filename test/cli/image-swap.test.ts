/**
 * An image listed by the walk and then swapped for a FIFO or /dev/zero before it is read is recorded as a
 * per-file error, never opened for a blocking or endless read (the hang from issue 17, "Folders and files").
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readImageFile } from '../../src/images/read.js';
import { walkImages } from '../../src/images/walk.js';
import { decodeFile } from '../../src/run/decode.js';
import { defaultPreprocessor } from '../../src/model/preprocessor.js';
import { IMAGES, tempDir } from '../helpers/env.js';

const options = { preprocess: defaultPreprocessor(224, 'vit'), maxPixels: 100_000_000 };

describe('reading a listed image', () => {
  it('reads a regular file whole', async () => {
    const bytes = await readImageFile(join(IMAGES, 'chelsea.png'));
    expect(bytes.equals(readFileSync(join(IMAGES, 'chelsea.png')))).toBe(true);
  });

  it('a file above the byte cap is refused, not read', async () => {
    await expect(readImageFile(join(IMAGES, 'chelsea.png'), 1000)).rejects.toThrow(/^file too large to read: \d+ bytes, above the 1000-byte limit/);
  });

  it.each([
    ['a FIFO', (p: string) => execFileSync('mkfifo', [p])],
    ['a link to /dev/zero', (p: string) => symlinkSync('/dev/zero', p)],
  ])('an image swapped for %s after listing becomes a per-file error', async (_, swap) => {
    const dir = tempDir('swap');
    copyFileSync(join(IMAGES, 'chelsea.png'), join(dir, 'a.png'));
    writeFileSync(join(dir, 'b.txt'), 'not an image');
    const { entries, errors } = await walkImages(dir);
    expect(entries.map((e) => e.path)).toEqual(['a.png']);
    expect(errors).toEqual([]);
    rmSync(join(dir, 'a.png'));
    swap(join(dir, 'a.png'));
    const decoded = await decodeFile(entries[0], options, () => false);
    expect(decoded.status).toBe('error');
    expect(decoded.status === 'error' ? decoded.reason : '').toMatch(/not a regular file/);
    expect('pixels' in decoded).toBe(false);
  });
});
