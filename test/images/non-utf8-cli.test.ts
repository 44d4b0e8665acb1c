/**
 * A file name that is not valid UTF-8 (Linux names are bytes) must work in every command that opens
 * the photo again after the scan: the built CLI (`npm run build` first; `npm test` does it) runs scan,
 * intervene, report (thumbnails, the feature × token view) and map on a folder holding such a file and
 * a file inside such a folder. Each photo also has a UTF-8-named twin (same bytes), so "the output is
 * that image" is checked by equality with what the twin gives, not by a file merely existing.
 */
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureModel, IMAGES, ROOT, tempDir } from '../helpers/env.js';
import { massivit } from '../helpers/cli.js';

/** The one fixture this file uses (fixture folders may move: change it here only). */
const MODEL = fixtureModel('synthetic-dinov2');

/** Stored forms of the byte names below (walk.ts: each invalid byte as \xHH). */
const LATIN1 = 'caf\\xE9.png';
const IN_FOLDER = 'dir-\\xC3(/inner.png';
const TWINS: Record<string, string> = { [LATIN1]: 'twins/coffee.png', [IN_FOLDER]: 'twins/chelsea.png' };

/** The folder, or why this file system cannot hold it (then every test here is skipped, saying so). */
function makeImages(root: string): string | undefined {
  const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => Buffer.from(p as string)));
  try {
    writeFileSync(bytes(root, '/caf', [0xe9], '.png'), readFileSync(join(IMAGES, 'coffee.png')));
    mkdirSync(bytes(root, '/dir-', [0xc3, 0x28]));
    writeFileSync(bytes(root, '/dir-', [0xc3, 0x28], '/inner.png'), readFileSync(join(IMAGES, 'chelsea.png')));
  } catch (err) {
    return `this file system refuses non-UTF-8 names (${(err as Error).message})`;
  }
  mkdirSync(join(root, 'twins'));
  copyFileSync(join(IMAGES, 'coffee.png'), join(root, 'twins', 'coffee.png'));
  copyFileSync(join(IMAGES, 'chelsea.png'), join(root, 'twins', 'chelsea.png'));
  copyFileSync(join(IMAGES, 'astronaut.png'), join(root, 'plain.png'));
  return undefined;
}

const work = tempDir('non-utf8');
const images = join(work, 'images');
mkdirSync(images);
const refused = makeImages(images);
if (refused) console.warn(`SKIPPING the non-UTF-8 file name tests: ${refused}`);
const built = existsSync(join(ROOT, 'dist', 'cli', 'index.js'));
if (!built) console.warn('SKIPPING the non-UTF-8 file name tests: the CLI is not built (run `npm run build`)');

describe.skipIf(refused !== undefined || !built)('a non-UTF-8 file name, through the built CLI', () => {
  const scanDir = join(work, 'scan');
  let scanned: ReturnType<typeof massivit>;

  beforeAll(() => {
    scanned = massivit('scan', '--model', MODEL, '--images', images, '--out', scanDir, '--device', 'cpu', '--threads', '1', '--json');
  });

  it('scan: reads both files and stores them under their \\xHH names', () => {
    expect(scanned.code, scanned.stderr).toBe(0);
    const summary = JSON.parse(scanned.stdout);
    expect(summary.images).toMatchObject({ scanned: 5, failed: 0, errors: [] });
    const db = new Database(join(scanDir, 'scan.sqlite'), { readonly: true });
    const rows = db.prepare("SELECT path, status FROM files ORDER BY path").all();
    db.close();
    expect(rows).toEqual(expect.arrayContaining([{ path: LATIN1, status: 'ok' }, { path: IN_FOLDER, status: 'ok' }]));
  });

  it('report: the thumbnail of each is drawn, and is the thumbnail of its twin', () => {
    expect(scanned.stderr).not.toMatch(/thumbnails skipped|view skipped/);
    const html = readFileSync(join(scanDir, 'report.html'), 'utf8');
    const thumb = (rel: string) => html.match(new RegExp(`<img src="(data:image/jpeg;base64,[^"]+)" alt="${rel.replace(/[\\()]/g, '\\$&')}"`))?.[1];
    for (const rel of [LATIN1, IN_FOLDER]) {
      expect(thumb(rel), rel).toBeDefined();
      expect(thumb(rel), rel).toBe(thumb(TWINS[rel]));
    }
    expect(thumb(LATIN1)).not.toBe(thumb(IN_FOLDER));
  });

  it('report --image: the feature × token view is that image', () => {
    const view = (rel: string) => {
      const r = massivit('report', scanDir, '--model', MODEL, '--image', rel, '--no-figures');
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(readFileSync(join(scanDir, 'views', 'feature-token.json'), 'utf8'));
    };
    const chosen = view(LATIN1);
    expect(chosen.image).toBe(LATIN1);
    const twin = view(TWINS[LATIN1]);
    expect(chosen.tokenMax).toEqual(twin.tokenMax);
    expect(chosen.grid).toEqual(twin.grid);
    expect(view('plain.png').tokenMax).not.toEqual(chosen.tokenMax);
  });

  it('map: the overlay is drawn over that photo', () => {
    let made = 0;
    const map = (rel: string) => {
      const out = join(work, `map-${made++}.png`);
      const r = massivit('map', scanDir, '--image', rel, '--layer', '3', '--out', out);
      expect(r.code, r.stderr).toBe(0);
      return readFileSync(out);
    };
    for (const rel of [LATIN1, IN_FOLDER]) expect(map(rel).equals(map(TWINS[rel])), rel).toBe(true);
    expect(map(LATIN1).equals(map(IN_FOLDER))).toBe(false);
  });

  it('intervene: every image is used, none fails', () => {
    const out = join(work, 'intervene');
    const r = massivit('intervene', '--model', MODEL, '--images', images, '--scan', scanDir, '--out', out, '--device', 'cpu', '--threads', '1', '--no-report', '--json');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(out, 'intervene.json'), 'utf8'));
    expect(result.images).toEqual({ used: 5, failed: 0, errors: [] });
  });
});
