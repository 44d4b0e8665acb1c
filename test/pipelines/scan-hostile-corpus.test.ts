/**
 * The hostile corpus through the real CLI (real sharp, real ONNX Runtime, real SQLite): every case ends
 * as scanned or as an error row with its specific reason, the scan finishes with exit 0, inputs ==
 * scanned + failed, names are stored exactly, nothing is written outside --out, and the report shows
 * every name escaped (checked in real Chromium when report.html exists).
 */
import Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureModel, tempDir } from '../helpers/env.js';
import { HOSTILE_NAMES, makeHostileCorpus, type Corpus, type HostileCase } from '../helpers/make-corpus.js';
import { handTo, massivit, pickRunner } from '../helpers/run-as.js';

const model = fixtureModel('tiny-vit-op14');
const runner = pickRunner();

interface Row {
  path: string;
  status: 'ok' | 'error';
  reason: string | null;
}

/** One line per case whose outcome is not the expected one (an empty list is a pass). */
function mismatches(cases: HostileCase[], rows: Map<string, Row>): string[] {
  const bad: string[] = [];
  for (const c of cases) {
    const row = rows.get(c.rel);
    const shown = `${c.name} [${JSON.stringify(c.rel)}]`;
    if (c.expect === 'ignored') {
      const inside = [...rows.keys()].filter((p) => p === c.rel || p.startsWith(`${c.rel}/`));
      if (inside.length > 0) bad.push(`${shown}: expected no row, found ${JSON.stringify(inside)}`);
    } else if (!row) bad.push(`${shown}: no row in the store`);
    else if (c.expect === 'scanned') {
      if (row.status !== 'ok') bad.push(`${shown}: expected scanned, got error "${row.reason}"`);
    } else if (row.status !== 'error' || !c.expect.test(row.reason ?? '')) {
      bad.push(`${shown}: expected error ${c.expect}, got ${row.status} "${row.reason}"`);
    }
  }
  return bad;
}

describe(`hostile corpus (${runner.why})`, () => {
  let corpus: Corpus;
  let work: string;
  let out: string;
  let run: ReturnType<typeof massivit>;
  let rows: Map<string, Row>;
  let imagesBefore: string[];

  beforeAll(async () => {
    const tmp = tempDir('hostile');
    chmodSync(tmp, 0o755);
    corpus = await makeHostileCorpus(join(tmp, 'images'), { enforcesPermissions: runner.enforcesPermissions });
    for (const s of corpus.skipped) console.warn(`SKIPPED corpus case: ${s}`);
    work = join(tmp, 'work');
    out = join(work, 'nested', 'out');
    mkdirSync(work);
    handTo(runner, work);
    imagesBefore = readdirSync(corpus.root).sort();
    run = massivit(runner, ['scan', '--model', model, '--images', corpus.root, '--out', out, '--json', '--threads', '1', '--batch', '4']);
    const db = new Database(join(out, 'scan.sqlite'), { readonly: true });
    rows = new Map((db.prepare('SELECT path, status, reason FROM files').all() as Row[]).map((r) => [r.path, r]));
    db.close();
  });

  afterAll(() => corpus?.restore());

  it('has at least 40 cases and the scan finishes with exit 0', () => {
    expect(corpus.cases.length).toBeGreaterThanOrEqual(40);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(run.code, run.stderr).toBe(0);
  });

  it('ends every case as scanned or as an error row with its specific reason', () => {
    expect(mismatches(corpus.cases, rows)).toEqual([]);
  });

  it('accounts for every input: inputs == scanned + failed, and no row that is not a case', () => {
    const inputs = corpus.cases.filter((c) => c.expect !== 'ignored');
    const summary = JSON.parse(run.stdout);
    expect(summary.images.scanned + summary.images.failed).toBe(inputs.length);
    expect(summary.images.scanned).toBe(inputs.filter((c) => c.expect === 'scanned').length);
    expect([...rows.keys()].sort()).toEqual(inputs.map((c) => c.rel).sort());
    const written = JSON.parse(readFileSync(join(out, 'scan.json'), 'utf8'));
    expect(written.images).toEqual(summary.images);
  });

  it('stores hostile names exactly as they are on disk (SQLite and scan.json)', () => {
    for (const name of HOSTILE_NAMES) expect(rows.get(name)?.status, JSON.stringify(name)).toBe('ok');
    const errors: { path: string }[] = JSON.parse(readFileSync(join(out, 'scan.json'), 'utf8')).images.errors;
    expect(errors.map((e) => e.path)).toContain('<img src=x onerror=alert(3)>.jpg');
  });

  it('writes nothing outside --out and runs nothing named in a file', () => {
    expect(readdirSync(work)).toEqual(['nested']);
    expect(readdirSync(join(work, 'nested'))).toEqual(['out']);
    expect(readdirSync(corpus.root).sort()).toEqual(imagesBefore);
    for (const dir of [corpus.root, work, process.cwd()]) expect(existsSync(join(dir, 'pwned')), dir).toBe(false);
  });

  it('shows every name escaped in report.html (real Chromium)', async (ctx) => {
    const html = await reportHtml(out);
    if (typeof html !== 'string') return ctx.skip(`SKIPPING report check: ${html.skip}`);
    expect(html).not.toContain('<img src=x onerror');
    expect(html).not.toContain('<script>alert(');
    const { checkInBrowser } = await import('../helpers/corpus-browser.js');
    const seen = await checkInBrowser(join(out, 'report.html'));
    if (typeof seen === 'string') return ctx.skip(`SKIPPING browser check: ${seen}`);
    expect(seen.dialogs).toEqual([]);
    expect(seen.injected).toBe(0);
    expect(seen.text).toContain('<img src=x onerror=alert(3)>.jpg');
  });
});

/** report.html from the scan if the CLI wrote one, else built with the report module if it exists. */
async function reportHtml(out: string): Promise<string | { skip: string }> {
  const file = join(out, 'report.html');
  if (!existsSync(file)) {
    try {
      const report = (await import('../../src/pipelines/report.js')) as { writeScanReport?: (dir: string) => Promise<unknown> };
      if (!report.writeScanReport) return { skip: 'src/report has no writeScanReport yet' };
      await report.writeScanReport(out);
    } catch (err) {
      return { skip: `the report module cannot build report.html yet (${(err as Error).message.split('\n')[0]})` };
    }
  }
  return existsSync(file) ? readFileSync(file, 'utf8') : { skip: 'no report.html was written' };
}
