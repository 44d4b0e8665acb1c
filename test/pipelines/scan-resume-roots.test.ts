/**
 * Nothing lost on a resume: a scan re-run into its --out with another, an empty or a mistyped --images
 * folder, or with --images inside --out, is refused (exit 2, naming both folders) and the store is left
 * as it was; files the walk merely cannot see now keep their results unless `--prune`; a rename is still
 * recognised by content hash (test/scale/resume-kill.test.ts). Real CLI, real SQLite, the tiny fixture model.
 */
import Database from 'better-sqlite3';
import { copyFileSync, mkdirSync, readFileSync, realpathSync, renameSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureModel, IMAGES, tempDir } from '../helpers/env.js';
import { massivit } from '../helpers/cli.js';

const model = fixtureModel('tiny-vit-op14');
const PHOTOS = ['chelsea.png', 'camera.png', 'rocket.jpg', 'coffee.png'];


const scanInto = (images: string, out: string, ...extra: string[]) =>
  massivit('scan', '--model', model, '--images', images, '--out', out, '--device', 'cpu', '--threads', '1', '--no-report', ...extra);

function folderOf(dir: string, photos: string[]): string {
  mkdirSync(dir, { recursive: true });
  for (const name of photos) copyFileSync(join(IMAGES, name), join(dir, name));
  return dir;
}

function query<T>(out: string, sql: string): T {
  const db = new Database(join(out, 'scan.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).pluck().get() as T;
  } finally {
    db.close();
  }
}
const fileRows = (out: string) => query<number>(out, 'SELECT COUNT(*) FROM files');
const scanned = (out: string) => JSON.parse(readFileSync(join(out, 'scan.json'), 'utf8')).images.scanned as number;
const storeBytes = (out: string) => readFileSync(join(out, 'scan.sqlite'));

describe('resuming a scan from another image folder', () => {
  let work: string;
  let photos: string;
  let out: string;

  beforeAll(() => {
    work = tempDir('resume-roots');
    photos = folderOf(join(work, 'photos'), PHOTOS);
    out = join(work, 'out');
    const r = scanInto(photos, out);
    expect(r.code, r.stderr).toBe(0);
    expect(fileRows(out)).toBe(PHOTOS.length);
  });

  it('records the real path of the image folder, also when given through a symlink', () => {
    expect(query(out, "SELECT value FROM meta WHERE key = 'imagesRoot'")).toBe(realpathSync(photos));
    const link = join(work, 'photos-link');
    symlinkSync(photos, link);
    const viaLink = join(work, 'via-link');
    expect(scanInto(link, viaLink).code).toBe(0);
    expect(query(viaLink, "SELECT value FROM meta WHERE key = 'imagesRoot'")).toBe(realpathSync(photos));
    // And a resume through the link is the same root: accepted, nothing lost.
    const r = scanInto(link, out);
    expect(r.code, r.stderr).toBe(0);
    expect(fileRows(out)).toBe(PHOTOS.length);
  });

  it.each([
    ['another folder with photos', () => folderOf(join(work, 'other'), ['china.jpg'])],
    ['an empty folder (a typo, an unmounted disk)', () => folderOf(join(work, 'empty'), [])],
  ])('refuses %s with exit 2 naming both folders, and leaves the store untouched', (_what, make) => {
    const before = storeBytes(out);
    const images = make();
    const r = scanInto(images, out);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(realpathSync(photos));
    expect(r.stderr).toContain(images);
    expect(r.stderr).not.toMatch(/\n\s+at /); // one line, no stack trace
    expect(storeBytes(out).equals(before)).toBe(true);
    expect(fileRows(out)).toBe(PHOTOS.length);
  });

  it('refuses --images that is the scan\'s own --out or inside it', () => {
    for (const images of [out, join(out, 'views')]) {
      mkdirSync(images, { recursive: true });
      const before = storeBytes(out);
      const r = scanInto(images, out);
      expect(r.code, images).toBe(2);
      expect(r.stderr).toMatch(/--images .* (the same folder as|inside) --out/);
      expect(r.stderr).toContain(out);
      expect(storeBytes(out).equals(before)).toBe(true);
    }
  });

  it('keeps the results of files it cannot see now, says so, and drops them only with --prune', () => {
    const root = folderOf(join(work, 'mount'), PHOTOS);
    const dir = join(work, 'mount-out');
    expect(scanInto(root, dir).code).toBe(0);
    // The disk is "unmounted": the folder is there, two files are gone.
    const away = join(work, 'away');
    mkdirSync(away);
    for (const name of PHOTOS.slice(0, 2)) renameSync(join(root, name), join(away, name));
    const kept = scanInto(root, dir);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stderr).toMatch(/kept the results of 2 earlier files not found under .* \(pass --prune to drop them\)/);
    expect(fileRows(dir)).toBe(PHOTOS.length);
    expect(scanned(dir)).toBe(PHOTOS.length);
    // They come back: nothing is analysed again, nothing counted twice.
    for (const name of PHOTOS.slice(0, 2)) renameSync(join(away, name), join(root, name));
    expect(scanInto(root, dir).code).toBe(0);
    expect(scanned(dir)).toBe(PHOTOS.length);
    // Gone for good, and the user says so.
    for (const name of PHOTOS.slice(0, 2)) renameSync(join(root, name), join(away, name));
    const pruned = scanInto(root, dir, '--prune');
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stderr).not.toMatch(/kept the results/);
    expect(fileRows(dir)).toBe(2);
    expect(scanned(dir)).toBe(2);
    expect(query(dir, 'SELECT COUNT(*) FROM images')).toBe(2); // their analysed content went too
  });

  it('drops a renamed file\'s old path without --prune (its content is under the new name)', () => {
    const root = folderOf(join(work, 'renames'), PHOTOS);
    const dir = join(work, 'renames-out');
    expect(scanInto(root, dir).code).toBe(0);
    renameSync(join(root, 'camera.png'), join(root, 'renamed-camera.png'));
    const r = scanInto(root, dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/kept the results/);
    expect(fileRows(dir)).toBe(PHOTOS.length);
    expect(query(dir, "SELECT COUNT(*) FROM files WHERE path = 'camera.png'")).toBe(0);
  });

  it('refuses another shard into a shard\'s --out (it would drop the earlier shard\'s rows)', () => {
    const dir = join(work, 'shard-out');
    expect(scanInto(photos, dir, '--shard', '0/2').code).toBe(0);
    const before = storeBytes(dir);
    for (const other of [['--shard', '1/2'], []]) {
      const r = scanInto(photos, dir, ...other);
      expect(r.code, other.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/holds a scan of shard 0\/2, this run scans (shard 1\/2|the whole image folder)/);
      expect(storeBytes(dir).equals(before)).toBe(true);
    }
    expect(scanInto(photos, dir, '--shard', '0/2').code).toBe(0); // the same shard resumes
  });

  it('resumes a store written before the image root was recorded, and records it then', () => {
    const root = folderOf(join(work, 'old'), PHOTOS);
    const dir = join(work, 'old-out');
    expect(scanInto(root, dir).code).toBe(0);
    const db = new Database(join(dir, 'scan.sqlite'));
    db.prepare("DELETE FROM meta WHERE key = 'imagesRoot'").run();
    db.close();
    const mtime = statSync(join(dir, 'scan.json')).mtimeMs;
    const r = scanInto(root, dir);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(join(dir, 'scan.json')).mtimeMs).toBeGreaterThan(mtime);
    expect(query(dir, "SELECT value FROM meta WHERE key = 'imagesRoot'")).toBe(realpathSync(root));
    expect(fileRows(dir)).toBe(PHOTOS.length);
  });
});
