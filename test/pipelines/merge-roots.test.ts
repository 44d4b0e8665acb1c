/**
 * merge and the image folder: shards of two different image folders are refused (exit 2, naming both),
 * shards of one folder reached through a symlink merge; a killed merge's `scan.sqlite.merging-<pid>`
 * litter is removed by the next merge; merged and shard stores are left in rollback-journal mode, so
 * they open read-only anywhere. Real CLI, real SQLite, the tiny fixture model.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureModel, IMAGES, tempDir } from '../helpers/env.js';
import { massivit } from '../helpers/cli.js';

const model = fixtureModel('tiny-vit-op14');

const shard = (images: string, out: string, which: string) =>
  massivit('scan', '--model', model, '--images', images, '--out', out, '--device', 'cpu', '--threads', '1', '--no-report', '--shard', which);

function folderOf(dir: string, photos: string[]): string {
  mkdirSync(dir, { recursive: true });
  for (const name of photos) copyFileSync(join(IMAGES, name), join(dir, name));
  return dir;
}

/** SQLite header bytes 18/19: 1 = rollback journal, 2 = WAL. */
function journalByte(store: string): number {
  const b = Buffer.alloc(20);
  const fd = openSync(store, 'r');
  readSync(fd, b, 0, 20, 0);
  closeSync(fd);
  return b[18];
}

describe('merge refuses shards of different image folders', () => {
  let work: string;
  let a: string;
  let b: string;

  beforeAll(() => {
    work = tempDir('merge-roots');
    a = folderOf(join(work, 'a'), ['chelsea.png', 'camera.png', 'rocket.jpg', 'coffee.png']);
    b = folderOf(join(work, 'b'), ['china.jpg', 'coins.png', 'flower.jpg', 'brick.png']);
    for (const [images, out, which] of [[a, 'a0', '0/2'], [a, 'a1', '1/2'], [b, 'b1', '1/2']]) {
      const r = shard(images, join(work, out), which);
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it('refuses shard 0/2 of one folder with shard 1/2 of another, naming both, and writes nothing', () => {
    const out = join(work, 'mixed');
    const r = massivit('merge', join(work, 'a0'), join(work, 'b1'), '--out', out, '--no-report');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(realpathSync(a));
    expect(r.stderr).toContain(realpathSync(b));
    expect(r.stderr).toMatch(/different image folders/);
    expect(existsSync(join(out, 'scan.json'))).toBe(false);
  });

  it('merges the shards of one folder, one of them scanned through a symlink', () => {
    const link = join(work, 'a-link');
    symlinkSync(a, link);
    const viaLink = join(work, 'a1-link');
    expect(shard(link, viaLink, '1/2').code).toBe(0);
    const out = join(work, 'merged');
    const r = massivit('merge', join(work, 'a0'), viaLink, '--out', out, '--no-report');
    expect(r.code, r.stderr).toBe(0);
    const merged = JSON.parse(readFileSync(join(out, 'scan.json'), 'utf8'));
    expect(merged.images.scanned).toBe(4);
    expect(merged.shard).toBeUndefined(); // complete
    // Shards and merge are settled in rollback-journal mode: readable read-only, no -wal/-shm.
    for (const dir of [join(work, 'a0'), out]) {
      expect(journalByte(join(dir, 'scan.sqlite')), dir).toBe(1);
      expect(readdirSync(dir).filter((n) => /-(wal|shm)$/.test(n))).toEqual([]);
    }
  });

  it('removes the litter of a killed merge before merging into that folder', () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // exited: its pid names no process now
    const out = join(work, 'after-kill');
    mkdirSync(out);
    const litter = [`scan.sqlite.merging-${dead}`, `scan.sqlite.merging-${dead}-wal`, `scan.sqlite.merging-${dead}-shm`, `scan.json.tmp-${dead}`];
    for (const n of litter) writeFileSync(join(out, n), 'half a merge');
    const r = massivit('merge', join(work, 'a0'), join(work, 'a1'), '--out', out, '--no-report');
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['scan.json', 'scan.sqlite']);
  });

  it('leaves a folder with other files alone (litter-like names are not removed there)', () => {
    const out = join(work, 'foreign');
    mkdirSync(out);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(join(out, 'notes.txt'), 'mine');
    writeFileSync(join(out, `scan.sqlite.merging-${dead}`), 'x');
    expect(massivit('merge', join(work, 'a0'), join(work, 'a1'), '--out', out, '--no-report').code).toBe(2);
    expect(readdirSync(out).sort()).toEqual(['notes.txt', `scan.sqlite.merging-${dead}`]);
  });
});
