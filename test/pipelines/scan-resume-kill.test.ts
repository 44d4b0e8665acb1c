/**
 * Resume: a real scan process (node bin/massivit.js, needs `npm run build`) is killed with SIGKILL or SIGINT
 * at random moments — after a random number of stored results, or after a random delay (which may land
 * in start-up, mid-batch or in the report) — and re-run with the same arguments, several times. After each
 * kill the store must hold no half-written image; the final scan.json must equal an uninterrupted run's.
 * Then, in process: renamed files are not analysed again, a changed file is.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { scan, type ScanProgress } from '../../src/pipelines/scan.js';
import { CLI, fixtureModel, ROOT, tempDir } from '../helpers/env.js';
import { cliEnv } from '../helpers/cli.js';
import { makeDataset, variant } from '../helpers/dataset.js';

const model = fixtureModel('tiny-vit-op14');
const LAYERS = 5; // tiny-vit: 4 blocks → hidden_states 0..4
const env = cliEnv();

const readJson = (dir: string) => JSON.parse(readFileSync(join(dir, 'scan.json'), 'utf8'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A small seeded generator, so a failure can be replayed (the seed is in the test name's output). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

function storeRows(out: string): number {
  const path = join(out, 'scan.sqlite');
  if (!existsSync(path)) return 0;
  try {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT COUNT(*) FROM files').pluck().get() as number;
    } finally {
      db.close();
    }
  } catch {
    return 0; // created but schema not yet committed
  }
}

/** No half-written image: every analysed file has its image row and all its layers, and nothing is orphaned. */
function checkConsistent(out: string): number {
  const db = new Database(join(out, 'scan.sqlite'), { readonly: true, fileMustExist: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const ok = db.prepare("SELECT COUNT(*) FROM files WHERE status = 'ok'").pluck().get() as number;
    const unmatched = db.prepare("SELECT COUNT(*) FROM files f WHERE f.status = 'ok' AND NOT EXISTS (SELECT 1 FROM images i WHERE i.hash = f.hash)").pluck().get();
    expect(unmatched).toBe(0);
    const partial = db.prepare('SELECT COUNT(*) FROM images i WHERE (SELECT COUNT(*) FROM layers l WHERE l.hash = i.hash) != ?').pluck().get(LAYERS);
    expect(partial).toBe(0);
    const orphanLayers = db.prepare('SELECT COUNT(*) FROM layers l WHERE NOT EXISTS (SELECT 1 FROM images i WHERE i.hash = l.hash)').pluck().get();
    expect(orphanLayers).toBe(0);
    return ok;
  } finally {
    db.close();
  }
}

function startScan(images: string, out: string) {
  const child = spawn(process.execPath, [CLI, 'scan', '--model', model, '--images', images, '--out', out, '--device', 'cpu', '--threads', '1', '--batch', '4'], { cwd: ROOT, env });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ? -1 : code)));
  return { child, exited, stderr: () => stderr };
}

describe('a scan killed at random moments and re-run', () => {
  let images: string;
  let reference: string;
  let total: number;
  let work: string;

  beforeAll(async () => {
    work = tempDir('resume-kill');
    images = join(work, 'images');
    total = await makeDataset(images, 5);
    reference = join(work, 'reference');
    const run = startScan(images, reference);
    expect(await run.exited, run.stderr()).toBe(0);
  });

  const seed = Number(process.env.MASSIVIT_TEST_SEED ?? Date.now() % 100000);
  it(`ends with exactly the uninterrupted run's scan.json (seed ${seed})`, async () => {
    const random = rng(seed);
    const out = join(work, 'killed');
    const midScan: number[] = [];
    for (let round = 0; round < 6; round++) {
      const before = storeRows(out);
      const run = startScan(images, out);
      if (round % 2 === 0) {
        // After a random number of new results land (batches commit 4 at a time), spread over the run.
        const target = before + 1 + Math.floor(random() * (total / 5));
        while (storeRows(out) < target && run.child.exitCode === null) await sleep(2);
      } else await sleep(Math.floor(random() * 1500)); // anywhere: start-up, a batch, the summary, the report
      run.child.kill(round % 3 === 2 ? 'SIGINT' : 'SIGKILL');
      const code = await run.exited;
      if (existsSync(join(out, 'scan.sqlite'))) {
        const rows = checkConsistent(out);
        if (rows > 0 && rows < total - 1 && code === -1) midScan.push(rows);
        if (process.env.MASSIVIT_TEST_DEBUG) console.log({ round, before, rows, code, stderr: run.stderr().slice(-300) });
      }
    }
    console.log(`resume-kill seed ${seed}: results stored when killed mid-scan: ${midScan.join(', ')} of ${total}`);
    expect(midScan.length, 'at least one kill landed mid-scan').toBeGreaterThan(0);
    const final = startScan(images, out);
    expect(await final.exited, final.stderr()).toBe(0);
    checkConsistent(out);
    expect(readJson(out)).toEqual(readJson(reference));
  });

  it('does not analyse renamed files again, and does analyse a changed file', async () => {
    const folder = join(work, 'rename-images');
    cpSync(images, folder, { recursive: true });
    const out = join(work, 'rename-out');
    const opts = { model, images: folder, out, device: 'cpu' as const, threads: 1, batch: 4, report: false };
    let last: ScanProgress | undefined;
    const onProgress = (p: ScanProgress) => (last = p);
    await scan({ ...opts, onProgress });
    expect(last).toMatchObject({ total, reused: 0, failed: 1 });

    renameSync(join(folder, 'a', 'chelsea-v0.png'), join(folder, 'a', 'cat.png'));
    renameSync(join(folder, 'b', 'coffee-v1.jpg'), join(folder, 'c', 'coffee-moved.jpg'));
    const renamed = await scan({ ...opts, onProgress });
    expect(last).toMatchObject({ total, reused: total - 1, failed: 1 }); // nothing analysed
    const fresh = await scan({ ...opts, out: join(work, 'rename-fresh') });
    expect(renamed.summary).toEqual(fresh.summary);
    expect(renamed.summary.images.errors).toEqual([{ path: 'b/broken.jpg', reason: expect.any(String) }]);

    const changed = await variant('rocket.jpg', 9);
    writeFileSync(join(folder, 'a', 'cat.png'), changed.bytes); // same name, new content
    const rescanned = await scan({ ...opts, onProgress });
    expect(last).toMatchObject({ total, reused: total - 2, failed: 1 }); // exactly one analysed
    const fresh2 = await scan({ ...opts, out: join(work, 'rename-fresh2') });
    expect(rescanned.summary).toEqual(fresh2.summary);
    const db = new Database(join(out, 'scan.sqlite'), { readonly: true });
    expect(db.prepare('SELECT COUNT(*) FROM images').pluck().get()).toBe(total - 1); // the old content was pruned
    db.close();
  });
});
