/**
 * A full disk during a fresh scan stops it cleanly: exit 2, one line saying the disk is full, the store
 * intact (what was committed stays), and the same command resumes once there is space. The disk is a small
 * tmpfs, filled up to a few kB before the scan; the case skips (with a SKIPPING line) where mounts are refused.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureModel, IMAGES, tempDir } from '../helpers/env.js';
import { runMassivit } from '../helpers/cli.js';

const MODEL = fixtureModel('tiny-vit-op14');
const work = tempDir('full-disk');
const disk = join(work, 'disk');
mkdirSync(disk);
let mounted = false;

afterAll(() => {
  if (mounted) spawnSync('umount', [disk]);
});

const massivit = (...args: string[]) => runMassivit(args, { timeout: 120_000 });

describe('a full disk during a fresh scan', () => {
  it('stops with exit 2 and one line, keeps the committed rows, and resumes once there is space', (ctx) => {
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16384k', 'tmpfs', disk], { encoding: 'utf8' });
    if (m.status !== 0) {
      console.warn(`SKIPPING the full-disk scan: mount -t tmpfs failed: ${(m.stderr || m.error?.message || '').trim()}`);
      return ctx.skip();
    }
    mounted = true;
    const images = join(work, 'images');
    mkdirSync(images);
    // 240 different contents (a byte appended after the PNG's end: decoders ignore it, the hash does not), so
    // every one is analysed and stored: a store that outgrows what is left on the disk.
    const png = readFileSync(join(IMAGES, 'camera.png'));
    for (let i = 0; i < 240; i++) writeFileSync(join(images, `${String(i).padStart(3, '0')}.png`), Buffer.concat([png, Buffer.from(String(i))]));
    writeFileSync(join(disk, 'filler'), Buffer.alloc(16384 * 1024 - 256 * 1024));
    const out = join(disk, 'scan');
    const r = massivit('scan', '--model', MODEL, '--images', images, '--out', out, '--threads', '1', '--no-report', '--no-norms');
    expect(r.signal).toBeNull();
    expect(r.stderr).toMatch(/^massivit: cannot write .*scan\.sqlite: the disk is full \((SQLITE_FULL|ENOSPC)\); the images stored before it are kept/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(2);
    const db = new Database(join(out, 'scan.sqlite'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const before = (db.prepare("SELECT COUNT(*) AS n FROM files WHERE status = 'ok'").get() as { n: number }).n;
    db.close();
    expect(before).toBeLessThan(240);
    rmSync(join(disk, 'filler'));
    const again = massivit('scan', '--model', MODEL, '--images', images, '--out', out, '--threads', '1', '--no-report', '--no-norms', '--json');
    expect(again.code, again.stderr).toBe(0);
    const after = new Database(join(out, 'scan.sqlite'), { readonly: true });
    expect((after.prepare("SELECT COUNT(*) AS n FROM files WHERE status = 'ok'").get() as { n: number }).n).toBe(240);
    after.close();
  });
});
