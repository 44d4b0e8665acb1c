/**
 * A scan folder from someone else is untrusted input. Built at test time from a real scan of a small
 * fixture model: markup injected into documented numeric fields of scan.json, views/feature-token.json and
 * intervene.json must stop `report` and `compare` with exit 2 and one line naming the file and field; markup
 * in free-text fields (legal: they are strings) must be escaped, and the report opened in Chromium must make
 * no navigation and no request (a <meta http-equiv="refresh"> navigates even from <body>, and CSP cannot stop it).
 */
import Database from 'better-sqlite3';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/env.js';
import { runMassivit } from '../helpers/cli.js';
import { openBrowser, type Browser } from '../helpers/browser.js';
import { hostileImages, SYNTHETIC } from '../helpers/report-scans.js';

/** Navigates the page away when it lands in the HTML as markup. */
const REFRESH = '<meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/stolen">';
const SCRIPT = '<img src=x onerror="location.href=\'http://127.0.0.1:9/x\'">';

const cli = (...args: string[]) => runMassivit(args, { timeout: 120_000 });

type Json = Record<string, unknown>;
function editJson(path: string, edit: (j: Json) => void): void {
  const json = JSON.parse(readFileSync(path, 'utf8')) as Json;
  edit(json);
  writeFileSync(path, JSON.stringify(json));
}

/** Sets the field at `path` (dots and [i]) of a parsed JSON object. */
function setAt(root: Json, path: string, value: unknown): void {
  const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  let at = root as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  if (!(keys[keys.length - 1] in at)) throw new Error(`the real scan has no ${path}: the case tests nothing`);
  at[keys[keys.length - 1]] = value;
}

let work: string;
let scanDir: string;
let copies = 0;

/** A copy of the real scan folder, to be damaged. */
function copyScan(): string {
  const to = join(work, `copy-${copies++}`);
  cpSync(scanDir, to, { recursive: true });
  return to;
}

beforeAll(() => {
  work = tempDir('hostile-scan');
  const images = hostileImages(join(work, 'images'));
  scanDir = join(work, 'scan');
  const r = cli('scan', '--model', SYNTHETIC, '--images', images, '--out', scanDir, '--attention', '--threads', '1');
  expect(r.code, r.stderr).toBe(0);
}, 180_000);

describe('documented fields that hold markup', () => {
  const scanFields = [
    'massive[0].token', 'massive[0].dim', 'massive[0].position[1]', 'model.numLayers', 'model.inputSize[0]', 'model.tokens.patchGrid[0]',
    'model.tokens.cls', 'layers[2].top1', 'layers[0].imagesWithMassive', 'emergence.firstLayer', 'images.scanned', 'criteria.topK',
    'norms.layers[1].fixed.images', 'norms.layers[1].meanNorm.cls', 'attention.blocks[0].heads[0].sinkShare', 'model.family', 'massive[0].role',
  ];
  const COMPARED = new Set(['massive[0].dim', 'model.numLayers', 'model.inputSize[0]', 'layers[2].top1']);
  it.each(scanFields)('scan.json %s: report (and compare) exit 2 naming the field', (field) => {
    const dir = copyScan();
    editJson(join(dir, 'scan.json'), (j) => setAt(j, field, REFRESH));
    // compare reads through the same reader: a few fields there keep the test's run time down
    const runs = [cli('report', dir, '--no-figures'), ...(COMPARED.has(field) ? [cli('compare', scanDir, dir, '--out', join(dir, 'cmp'))] : [])];
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(2);
      const line = r.stderr.split('\n').find((l) => l.startsWith('massivit:'));
      expect(line).toContain(`scan.json: ${field} must be `);
      expect(line).toMatch(/found a string$/);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });

  it.each([
    ['model.tokens.cls', 10_000, 'model.tokens.cls must be below model.sequenceLength (197), found 10000'],
    ['massive[0].dim', 64, 'massive[0].dim must be below model.hiddenSize (64), found 64'],
    ['model.tokens.patchGrid[0]', 1_000_000, 'model.tokens.patchGrid must be rows × cols = model.sequenceLength − model.tokens.patchStart (196), found 1000000 × 14'],
    ['model.numLayers', 1e9, 'model.numLayers must be at most 4096, found 1000000000'],
  ])('an index or size that disagrees with the model is refused: %s = %s', (field, value, message) => {
    const dir = copyScan();
    editJson(join(dir, 'scan.json'), (j) => setAt(j, field as string, value));
    const r = cli('report', dir, '--no-figures');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`scan.json: ${message as string}`);
  });

  it.each(['layer', 'tokenArgmax[3]', 'topDims[0].dim', 'grid.cols'])('views/feature-token.json %s: report exits 2 naming the field', (field) => {
    const dir = copyScan();
    editJson(join(dir, 'views', 'feature-token.json'), (j) => setAt(j, field, REFRESH));
    const r = cli('report', dir, '--no-figures');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`feature-token.json: ${field} must be `);
  });

  it('intervene.json: --intervene with markup in a number exits 2; the one in the folder becomes a note', () => {
    const dir = copyScan();
    const made = cli('intervene', '--scan', dir, '--out', dir, '--model', SYNTHETIC, '--images', join(work, 'images'), '--threads', '1', '--no-report');
    expect(made.code, made.stderr).toBe(0);
    editJson(join(dir, 'intervene.json'), (j) => setAt(j, 'results[0].cells', REFRESH));
    const explicit = cli('report', dir, '--no-figures', '--intervene', join(dir, 'intervene.json'));
    expect(explicit.code).toBe(2);
    expect(explicit.stderr).toContain('intervene.json: results[0].cells must be a non-negative integer, found a string');
    const found = cli('report', dir, '--no-figures');
    expect(found.code, found.stderr).toBe(0);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).not.toContain('http-equiv="refresh"');
    expect(html).toContain('intervene.json skipped: ');
  }, 120_000);
});

describe('a scan.sqlite whose numeric columns hold markup (SQLite columns take any type)', () => {
  it('reaches the report only escaped', () => {
    const dir = copyScan();
    const db = new Database(join(dir, 'scan.sqlite'));
    db.prepare('UPDATE cells SET token = ?, dim = ?').run(REFRESH, SCRIPT);
    db.close();
    for (const [r, html] of [[cli('report', dir, '--no-figures'), join(dir, 'report.html')], [cli('compare', dir, scanDir, '--out', join(dir, 'cmp'), '--no-figures'), join(dir, 'cmp', 'compare.html')]] as const) {
      expect(r.code, r.stderr).toBe(0);
      const source = readFileSync(html, 'utf8');
      expect(source).not.toContain('<meta http-equiv="refresh"');
      expect(source).not.toContain('<img src=x');
    }
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('token &lt;meta http-equiv=&quot;refresh&quot;'); // the thumbnail caption
  });
});

describe('free-text fields that hold markup', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await openBrowser();
  });
  afterAll(async () => browser?.close());

  it('are escaped: the report and the comparison make no navigation and no request in Chromium', async () => {
    const dir = copyScan();
    editJson(join(dir, 'scan.json'), (j) => {
      setAt(j, 'model.name', `${REFRESH}${SCRIPT}`);
      setAt(j, 'tool.version', REFRESH);
      setAt(j, 'warnings', [REFRESH, SCRIPT]);
      setAt(j, 'images.errors[0].reason', REFRESH);
      setAt(j, 'model.sha256', REFRESH);
    });
    editJson(join(dir, 'views', 'feature-token.json'), (j) => setAt(j, 'image', REFRESH));
    const report = cli('report', dir, '--no-figures');
    expect(report.code, report.stderr).toBe(0);
    const compare = cli('compare', dir, scanDir, '--out', join(dir, 'cmp'));
    expect(compare.code, compare.stderr).toBe(0);
    for (const html of [join(dir, 'report.html'), join(dir, 'cmp', 'compare.html')]) {
      const source = readFileSync(html, 'utf8');
      expect(source).not.toContain('<meta http-equiv="refresh"');
      expect(source).not.toContain('<img src=x');
      const navigations: string[] = [];
      const visit = await browser.visit(html, undefined, (page) => page.on('framenavigated', (f) => navigations.push(f.url())));
      await visit.page.waitForTimeout(1500); // a 0-second refresh fires well within this
      expect(visit.requests).toEqual([pathToFileURL(html).href]);
      expect(navigations).toEqual([pathToFileURL(html).href]);
      expect(visit.dialogs).toEqual([]);
      expect(await visit.page.$$eval('meta[http-equiv="refresh" i], body img[src="x"]', (els) => els.length)).toBe(0);
      expect(await visit.page.evaluate(() => document.body.innerText)).toContain(REFRESH); // shown as text
      await visit.page.close();
    }
  }, 120_000);
});
