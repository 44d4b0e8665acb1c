/**
 * Output safety: --out never writes outside itself, never writes into a folder that holds something
 * else (including another program's scan.sqlite), and an existing scan is reused only for a resume with
 * the same model and options. Real CLI for exit codes and messages, the library for resume counts.
 */
import Database from 'better-sqlite3';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scan, type ScanProgress } from '../../src/pipelines/scan.js';
import { fixtureModel, IMAGES, tempDir } from '../helpers/env.js';
import { massivit } from '../helpers/cli.js';
import { snapshot } from '../helpers/snapshot.js';

const model = fixtureModel('tiny-vit-op14');
const other = fixtureModel('tiny-vit-op17');

function imageFolder(root: string): string {
  const images = join(root, 'images');
  mkdirSync(images, { recursive: true });
  for (const name of ['chelsea.png', 'camera.png', 'rocket.jpg']) copyFileSync(join(IMAGES, name), join(images, name));
  return images;
}

describe('--out is refused, untouched, when it is not ours', () => {
  it('a non-empty unrelated folder', () => {
    const tmp = tempDir('hostile-out');
    const out = join(tmp, 'thesis');
    mkdirSync(out);
    writeFileSync(join(out, 'chapter1.tex'), '\\section{Intro}');
    const before = snapshot(tmp);
    const r = massivit('scan', '--model', model, '--images', imageFolder(join(tmp, 'in')), '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out .*thesis is not empty and holds no scan\.sqlite: refusing to write into it/);
    expect(snapshot(tmp).filter((l) => !l.startsWith('in/'))).toEqual(before);
  });

  it('a file', () => {
    const tmp = tempDir('hostile-out');
    const out = join(tmp, 'notes.txt');
    writeFileSync(out, 'keep me');
    const r = massivit('scan', '--model', model, '--images', imageFolder(tmp), '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--out .*notes\.txt is a file, not a folder/);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
  });

  it.each([
    ['another program\'s SQLite database', (p: string) => {
      const db = new Database(p);
      db.exec("CREATE TABLE invoices (id INTEGER, total REAL); INSERT INTO invoices VALUES (1, 9.5)");
      db.close();
    }, /holds a scan\.sqlite that is not a massivit scan \(no such table: meta\)/],
    ['a corrupt scan.sqlite', (p: string) => writeFileSync(p, 'not a database at all, just bytes'.repeat(40)), /holds a scan\.sqlite that is not a massivit scan \(file is not a database\)/],
  ])('%s named scan.sqlite', (_name, make, message) => {
    const tmp = tempDir('hostile-out');
    const out = join(tmp, 'out');
    mkdirSync(out);
    make(join(out, 'scan.sqlite'));
    const before = readFileSync(join(out, 'scan.sqlite'));
    const r = massivit('scan', '--model', model, '--images', imageFolder(tmp), '--out', out);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(readFileSync(join(out, 'scan.sqlite')).equals(before)).toBe(true);
    expect(readdirSync(out)).toEqual(['scan.sqlite']);
  });
});

describe('an earlier scan in --out', () => {
  it('is resumed with the same model and options, refused with a different model or options', async () => {
    const tmp = tempDir('hostile-resume');
    const images = imageFolder(tmp);
    const out = join(tmp, 'out');
    const progress: ScanProgress[] = [];
    const first = await scan({ model, images, out, threads: 1 });
    expect(first.summary.images.scanned).toBe(3);
    const json = readFileSync(join(out, 'scan.json'), 'utf8');

    const differentModel = massivit('scan', '--model', other, '--images', images, '--out', out);
    expect(differentModel.code).toBe(2);
    expect(differentModel.stderr).toMatch(/holds a scan made with a different model or options; refusing to mix results/);
    const differentOptions = massivit('scan', '--model', model, '--images', images, '--out', out, '--top-k', '8');
    expect(differentOptions.code).toBe(2);
    expect(differentOptions.stderr).toMatch(/different model or options/);
    expect(readFileSync(join(out, 'scan.json'), 'utf8')).toBe(json);

    const again = await scan({ model, images, out, threads: 1, onProgress: (p) => progress.push(p) });
    expect(progress.at(-1)).toMatchObject({ done: 3, reused: 3, failed: 0 });
    expect(again.summary.images).toEqual(first.summary.images);
    expect(again.summary.massive).toEqual(first.summary.massive);
  });
});

describe('--out writes only inside itself', () => {
  it('creates only the out folder, even through missing parents', () => {
    const tmp = tempDir('hostile-inside');
    const images = imageFolder(join(tmp, 'data'));
    const before = snapshot(tmp);
    const r = massivit('scan', '--model', model, '--images', images, '--out', join(tmp, 'runs', 'a', '..', 'b', 'out'));
    expect(r.code, r.stderr).toBe(0);
    const added = snapshot(tmp).filter((l) => !before.includes(l));
    expect(added.length).toBeGreaterThan(0);
    for (const line of added) expect(line).toMatch(/^runs\/b\/out\//);
    expect(readdirSync(join(tmp, 'runs'))).toEqual(['b']);
  });

  it('an --out inside the image folder is never scanned as images (resume sees the same inputs)', () => {
    const tmp = tempDir('hostile-inside');
    const images = imageFolder(tmp);
    const out = join(images, 'massivit-out');
    const first = massivit('scan', '--model', model, '--images', images, '--out', out, '--json');
    expect(first.code, first.stderr).toBe(0);
    const second = massivit('scan', '--model', model, '--images', images, '--out', out, '--json');
    expect(second.code, second.stderr).toBe(0);
    for (const run of [first, second]) expect(JSON.parse(run.stdout).images).toMatchObject({ scanned: 3, failed: 0 });
    const db = new Database(join(out, 'scan.sqlite'), { readonly: true });
    const paths = (db.prepare('SELECT path FROM files ORDER BY path').all() as { path: string }[]).map((r) => r.path);
    db.close();
    expect(paths).toEqual(['camera.png', 'chelsea.png', 'rocket.jpg']);
  });
});
