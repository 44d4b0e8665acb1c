/**
 * Reading a scan folder writes nothing to it: report (elsewhere), compare and map open the store
 * read-only (no -wal/-shm appears, every byte and mtime stays); a scan folder on a read-only mount
 * reports and compares, and a write into it fails with one line saying the file system is read-only;
 * a full disk (a small tmpfs) leaves the previous report.html whole. An older WAL-mode store reads too.
 * Mounts need root with CAP_SYS_ADMIN: without it those cases are skipped with a warning, and the
 * atomic-write case below (the temp path is a folder, so the write fails) still checks the same promise.
 */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MassivitError } from '../../src/contracts/errors.js';
import { writeScanReport } from '../../src/pipelines/report.js';
import { fixtureModel, IMAGES, tempDir } from '../helpers/env.js';
import { massivit } from '../helpers/cli.js';
import { snapshot } from '../helpers/snapshot.js';

const model = fixtureModel('tiny-vit-op14');

const mounted: string[] = [];
function mount(...args: string[]): boolean {
  const r = spawnSync('mount', args, { encoding: 'utf8' });
  if (r.status === 0) mounted.push(args[args.length - 1]);
  else console.warn(`SKIPPING mount-based cases: mount ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim()}`);
  return r.status === 0;
}

describe('scan folders opened only for reading', () => {
  let work: string;
  let scanDir: string;

  beforeAll(() => {
    work = tempDir('readonly');
    const images = join(work, 'images');
    mkdirSync(images);
    for (const n of ['chelsea.png', 'camera.png', 'rocket.jpg']) cpSync(join(IMAGES, n), join(images, n));
    scanDir = join(work, 'scan');
    const r = massivit('scan', '--model', model, '--images', images, '--out', scanDir, '--device', 'cpu', '--threads', '1');
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => {
    for (const m of mounted.reverse()) spawnSync('umount', [m]);
  });

  it('report elsewhere, compare and map change no byte of the scan folder and leave no -wal/-shm', () => {
    const before = snapshot(scanDir);
    const elsewhere = join(work, 'elsewhere');
    expect(massivit('report', scanDir, '--html', join(elsewhere, 'r.html'), '--figures', join(elsewhere, 'figs')).code).toBe(0);
    expect(massivit('compare', scanDir, scanDir, '--out', join(elsewhere, 'cmp')).code).toBe(0);
    expect(massivit('map', scanDir, '--image', 'camera.png', '--layer', '2', '--out', join(elsewhere, 'map.png')).code).toBe(0);
    expect(snapshot(scanDir)).toEqual(before);
  });

  it('a failed write (the temp path is a folder) leaves the previous report.html whole and says why', async () => {
    const dir = join(work, 'atomic');
    cpSync(scanDir, dir, { recursive: true });
    const html = join(dir, 'report.html');
    const previous = readFileSync(html);
    mkdirSync(`${html}.tmp-${process.pid}`); // writeFileAtomic's temp file cannot be created
    const err = await writeScanReport(dir, { figures: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MassivitError);
    expect((err as MassivitError).code).toBe('BAD_OUTPUT');
    expect((err as Error).message).toContain(html);
    expect(readFileSync(html).equals(previous)).toBe(true);
  });

  it('a scan folder on a read-only mount reports elsewhere and compares; writing into it fails in one line', (ctx) => {
    const ro = join(work, 'ro');
    mkdirSync(ro);
    if (!mount('--bind', '-o', 'ro', scanDir, ro)) return ctx.skip();
    const out = join(work, 'from-ro');
    let r = massivit('report', ro, '--html', join(out, 'r.html'), '--figures', join(out, 'figs'));
    expect(r.code, r.stderr).toBe(0);
    r = massivit('compare', ro, scanDir, '--out', join(out, 'cmp'));
    expect(r.code, r.stderr).toBe(0);
    r = massivit('report', ro);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/cannot write .*report\.html: the file system is read-only \(EROFS\)/);
    expect(r.stderr).not.toMatch(/not a massivit scan|\n\s+at /);
    r = massivit('scan', '--model', model, '--images', join(work, 'images'), '--out', ro, '--device', 'cpu', '--threads', '1');
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/read-only/);
    expect(r.stderr).not.toMatch(/not a massivit scan|\n\s+at /);
  });

  it('an older WAL-mode store on a read-only mount still reports', (ctx) => {
    const wal = join(work, 'wal');
    cpSync(scanDir, wal, { recursive: true });
    const db = new Database(join(wal, 'scan.sqlite'));
    expect(db.pragma('journal_mode = WAL', { simple: true })).toBe('wal');
    db.close(); // the file stays in WAL mode, with no -wal/-shm beside it
    const ro = join(work, 'wal-ro');
    mkdirSync(ro);
    if (!mount('--bind', '-o', 'ro', wal, ro)) return ctx.skip();
    const out = join(work, 'from-wal');
    const r = massivit('report', ro, '--html', join(out, 'r.html'), '--figures', join(out, 'figs'));
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'r.html'), 'utf8')).toContain('camera.png'); // rows were read from the store
  });

  it('on a full disk the previous report.html stays whole, no temp file is left, and the message says so', (ctx) => {
    const full = join(work, 'full');
    mkdirSync(full);
    const used = snapshot(scanDir).reduce((n, line) => n + Number(line.split(' ')[1]), 0);
    if (!mount('-t', 'tmpfs', '-o', `size=${Math.ceil(used / 1024) + 96}k`, 'tmpfs', full)) return ctx.skip();
    const dir = join(full, 'scan');
    cpSync(scanDir, dir, { recursive: true });
    const previous = readFileSync(join(dir, 'report.html'));
    const r = massivit('report', dir);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/the disk is full \(ENOSPC\); the previous file, if any, is unchanged/);
    expect(readFileSync(join(dir, 'report.html')).equals(previous)).toBe(true);
    const tmp = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tmp(join(d, e.name)) : /\.tmp-\d+$/.test(e.name) ? [e.name] : []));
    expect(tmp(dir)).toEqual([]);
  });
});
