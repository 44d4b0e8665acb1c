/**
 * Cluster scale-out: three shard processes — one with --shard, one as a Slurm array task, one as a
 * Kubernetes Indexed Job pod (picking their shard from the environment) — then `massivit merge`, against
 * one process scanning everything. The merged scan.json must equal the single run's field by field.
 * Real processes (node bin/massivit.js, needs `npm run build`), real ONNX Runtime, real SQLite.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, fixtureModel, ROOT, tempDir } from '../helpers/env.js';
import { cliEnv, runMassivit } from '../helpers/cli.js';
import { makeDataset } from '../helpers/dataset.js';

const model = fixtureModel('tiny-vit-op14');
const baseEnv = cliEnv();

function massivit(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...baseEnv, ...env } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

const readJson = (dir: string) => JSON.parse(readFileSync(join(dir, 'scan.json'), 'utf8'));

function filePaths(dir: string): string[] {
  const db = new Database(join(dir, 'scan.sqlite'), { readonly: true });
  const paths = db.prepare('SELECT path FROM files ORDER BY path').pluck().all() as string[];
  db.close();
  return paths;
}

describe('scan --shard i/N on three processes + massivit merge', () => {
  let images: string;
  let work: string;
  let total: number;
  const scanArgs = (out: string) => ['scan', '--model', model, '--images', images, '--out', out, '--device', 'cpu', '--threads', '1', '--batch', '4', '--no-report'];

  beforeAll(async () => {
    work = tempDir('shard-merge');
    images = join(work, 'images');
    total = await makeDataset(images, 4);
    const runs = await Promise.all([
      massivit(scanArgs(join(work, 'single'))),
      massivit([...scanArgs(join(work, 'shard0')), '--shard', '0/3']),
      massivit(scanArgs(join(work, 'shard1')), { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_MIN: '0' }),
      massivit(scanArgs(join(work, 'shard2')), { JOB_COMPLETION_INDEX: '2', MASSIVIT_SHARD_COUNT: '3' }),
    ]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
  });

  it('splits the images into three disjoint shards that cover the folder, each picked by its scheduler variable', () => {
    const shards = [0, 1, 2].map((i) => filePaths(join(work, `shard${i}`)));
    expect(shards.map((s) => readJson(join(work, `shard${shards.indexOf(s)}`)).shard)).toEqual([[{ index: 0, count: 3 }], [{ index: 1, count: 3 }], [{ index: 2, count: 3 }]]);
    for (const s of shards) expect(s.length).toBeGreaterThan(total / 6); // a fair share each
    expect(shards.flat().sort()).toEqual(filePaths(join(work, 'single')));
    expect(new Set(shards.flat()).size).toBe(total);
  });

  it('merges the three shard stores into the scan.json of the single process, field by field', async () => {
    const out = join(work, 'merged');
    const r = await massivit(['merge', join(work, 'shard0'), join(work, 'shard1'), join(work, 'shard2'), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const single = readJson(join(work, 'single'));
    const merged = readJson(out);
    expect(single.images.scanned + single.images.failed).toBe(total);
    expect(single.images.failed).toBe(1);
    expect(single.massive.length + single.nearMisses.length).toBeGreaterThan(0);
    for (const key of new Set([...Object.keys(single), ...Object.keys(merged)])) expect(merged[key], key).toEqual(single[key]);
    expect(merged).toEqual(single);
    expect(filePaths(out)).toEqual(filePaths(join(work, 'single')));
  });

  it('a merge of some shards says which ones it holds', async () => {
    const out = join(work, 'partial');
    const r = await massivit(['merge', join(work, 'shard2'), join(work, 'shard0'), '--out', out, '--no-report']);
    expect(r.code, r.stderr).toBe(0);
    const partial = readJson(out);
    expect(partial.shard).toEqual([{ index: 0, count: 3 }, { index: 2, count: 3 }]);
    expect(r.stderr).toMatch(/partial: shards 0\/3, 2\/3 only/);
    // Merging the partial merge with the missing shard completes it.
    const full = join(work, 'completed');
    expect((await massivit(['merge', out, join(work, 'shard1'), '--out', full, '--no-report'])).code).toBe(0);
    expect(readJson(full)).toEqual(readJson(join(work, 'single')));
  });

  it('refuses shards scanned with other options, with exit 2 and a message', async () => {
    const other = join(work, 'other');
    expect((await massivit([...scanArgs(other), '--shard', '1/3', '--top-k', '8'])).code).toBe(0);
    const r = await massivit(['merge', join(work, 'shard0'), other, join(work, 'shard2'), '--out', join(work, 'bad')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/different model or options .*fingerprints differ.*refusing to merge/);
  });

  it('refuses a shard whose scan did not finish', async () => {
    const unfinished = join(work, 'unfinished');
    expect((await massivit([...scanArgs(unfinished), '--shard', '1/3'])).code).toBe(0);
    const db = new Database(join(unfinished, 'scan.sqlite'));
    db.prepare("UPDATE meta SET value = '0' WHERE key = 'finished'").run(); // as a killed scan leaves it
    db.close();
    const r = await massivit(['merge', join(work, 'shard0'), unfinished, '--out', join(work, 'bad2')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has not finished/);
  });

  it('refuses a Kubernetes pod without the completions count', () => {
    const r = runMassivit(scanArgs(join(work, 'k8s')), { env: { JOB_COMPLETION_INDEX: '0' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/MASSIVIT_SHARD_COUNT/);
  });
});
