/**
 * The scan's analysis stage (statistics, observations, SQLite rows) runs in a worker thread when the compiled
 * code runs (the CLI), and on the calling thread when the TypeScript sources run (these tests). Both must
 * write the same store: the CLI's scan.json must equal the in-process one field by field, attention
 * summaries and a broken file included. Real processes (node bin/massivit.js, needs `npm run build`).
 */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { scan } from '../../src/pipelines/scan.js';
import { fixtureModel, IMAGES, ROOT, tempDir } from '../helpers/env.js';
import { massivit } from '../helpers/cli.js';

const MODEL = fixtureModel('synthetic-dinov2-reg');
const COMPILED_WORKER = join(ROOT, 'dist', 'pipelines', 'analyser-worker.js');

describe.skipIf(!existsSync(COMPILED_WORKER))('analysis in the worker thread vs on the calling thread', () => {
  let images: string;
  let work: string;
  beforeAll(() => {
    work = tempDir('analyser-worker');
    images = join(work, 'images');
    spawnSync('mkdir', ['-p', images]);
    for (const f of readdirSync(IMAGES).filter((f) => /\.(jpe?g|png)$/i.test(f)).slice(0, 11)) copyFileSync(join(IMAGES, f), join(images, f));
    writeFileSync(join(images, 'broken.jpg'), ''); // an empty file: a failure row with a fixed reason
  });

  it('writes the same store and scan.json', async () => {
    const inThread = join(work, 'in-thread');
    const { summary } = await scan({ model: MODEL, images, out: inThread, attention: true, batch: 4, device: 'cpu', threads: 1, view: false });
    const inWorker = join(work, 'in-worker');
    const cli = massivit('scan', '-m', MODEL, '--images', images, '--out', inWorker, '--attention', '--batch', '4', '--threads', '1', '--no-report');
    expect(cli.code, cli.stderr).toBe(0);
    const fromWorker = JSON.parse(readFileSync(join(inWorker, 'scan.json'), 'utf8'));
    expect(fromWorker).toEqual(JSON.parse(JSON.stringify(summary)));
    expect(summary.images).toMatchObject({ scanned: 11, failed: 1 });
    expect(summary.attention?.images).toBe(11);
    const rows = (dir: string) => {
      const db = new Database(join(dir, 'scan.sqlite'), { readonly: true });
      const counts = ['files', 'images', 'layers', 'cells', 'outlier_dims', 'attn', 'attn_maps'].map((t) => db.prepare(`SELECT COUNT(*) FROM ${t}`).pluck().get());
      db.close();
      return counts;
    };
    expect(rows(inWorker)).toEqual(rows(inThread));
  });
});
