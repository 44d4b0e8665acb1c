/**
 * Stores written before the store took the glossary's names (attn.reg_share, attn.cls_sink_share, kind
 * 'near'): the two fixtures were written by the code of commit 3a90af7 (test/fixtures/stores-before-rename/
 * README.md). Every way in — read-only, resumed (migrated in place), merged as a shard — must give the
 * scan.json that code wrote, and a read-only open must not touch the file.
 */
import { cpSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { merge } from '../../src/pipelines/merge.js';
import { scanJsonFrom } from '../../src/pipelines/scan-summary.js';
import { openStore } from '../../src/store/db.js';
import { isOldStore } from '../../src/store/migrate.js';
import { openStoreForReading } from '../../src/store/read.js';
import { loadSummaryInputs } from '../../src/store/scan-meta.js';
import { FIXTURES as TEST_FIXTURES, tempDir } from '../helpers/env.js';

const FIXTURES = join(TEST_FIXTURES, 'stores-before-rename');

/** A private copy of one fixture scan folder. */
function copyOf(name: string): string {
  const dir = join(tempDir('old-store'), name);
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

const written = (dir: string) => JSON.parse(readFileSync(join(dir, 'scan.json'), 'utf8'));
const columns = (db: ReturnType<typeof openStore>, table: string) => db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table);
const kinds = (db: ReturnType<typeof openStore>, table: string) => db.prepare(`SELECT DISTINCT kind FROM ${table} ORDER BY kind`).pluck().all();

describe.each(['massive', 'near-miss'])('a store written before the rename (%s)', (name) => {
  it('reads read-only in the new names, gives the scan.json it was written with, and leaves the file as it was', () => {
    const dir = copyOf(name);
    const file = join(dir, 'scan.sqlite');
    const before = readFileSync(file);
    const db = openStoreForReading(file);
    try {
      expect(isOldStore(db)).toBe(true);
      expect(columns(db, 'attn')).toEqual(expect.arrayContaining(['register_share', 'cls_to_sink_share']));
      expect(kinds(db, 'cells')).not.toContain('near');
      expect(scanJsonFrom(db, loadSummaryInputs(db)!)).toEqual(written(dir));
    } finally {
      db.close();
    }
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['scan.json', 'scan.sqlite']);
  });

  it('is migrated in place when a scan opens it to write (a resume), once', () => {
    const dir = copyOf(name);
    const db = openStore(join(dir, 'scan.sqlite'));
    try {
      expect(isOldStore(db)).toBe(false);
      expect(columns(db, 'attn')).not.toContain('reg_share');
      expect(kinds(db, 'cells')).toContain('near-miss');
      expect(kinds(db, 'cells')).not.toContain('near');
      expect(scanJsonFrom(db, loadSummaryInputs(db)!)).toEqual(written(dir));
    } finally {
      db.close();
    }
    const again = openStore(join(dir, 'scan.sqlite'));
    try {
      expect(scanJsonFrom(again, loadSummaryInputs(again)!)).toEqual(written(dir));
    } finally {
      again.close();
    }
  });

  it('merges as a shard into a new store', async () => {
    const dir = copyOf(name);
    const out = join(tempDir('merged'), 'out');
    const { summary } = await merge({ shards: [dir], out, report: false });
    expect(summary).toEqual(written(dir));
    const db = openStoreForReading(join(out, 'scan.sqlite'));
    try {
      expect(isOldStore(db)).toBe(false);
      expect(kinds(db, 'cells')).not.toContain('near');
      expect(kinds(db, 'attn_sinks')).toEqual([name === 'massive' ? 'massive' : 'near-miss']);
    } finally {
      db.close();
    }
    expect(readdirSync(dir).sort()).toEqual(['scan.json', 'scan.sqlite']);
  });
});
