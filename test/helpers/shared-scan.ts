/**
 * One scan of the bundled photos with the real ViT-Ti for every test file that only reads it (scan, norms,
 * report). Test files run in two forked workers, so the first to ask takes a lock file and scans; the others
 * wait for its `done` file. Either way the summary is read back from scan.json, so every file sees the same.
 * A test that needs a differently configured scan runs its own.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import type { ScanJson } from '../../src/outputs/scan-json.js';
import { reportAfterScan } from '../../src/pipelines/report.js';
import { scan, type ScanOptions } from '../../src/pipelines/scan.js';
import { IMAGES, tempDir } from './env.js';

export interface SharedScan {
  outDir: string;
  summary: ScanJson;
  /** What the scan reported through onNotice. */
  notices: string[];
}

/** The superset the readers need: attention for norms/report, report.html and the view for report. */
const OPTIONS: Partial<ScanOptions> = { batch: 8, threads: 2, device: 'cpu', attention: true };
/** For the beforeAll that asks: a waiting file's hook includes the whole scan of the file that runs it. */
export const SHARED_SCAN_TIMEOUT = 300_000;
const WAIT_MS = SHARED_SCAN_TIMEOUT - 10_000;

interface Done {
  notices?: string[];
  error?: string;
}

/** The shared ViT-Ti scan of ./images, running it if no other test file has. */
export async function sharedVitTinyScan(model: string): Promise<SharedScan> {
  const base = inject('sharedScans') ?? tempDir('shared'); // without the global setup: a scan of its own
  const outDir = join(base, 'vit-tiny');
  const doneFile = join(base, 'vit-tiny.done.json');
  const done = takeLock(join(base, 'vit-tiny.lock')) ? await runScan(model, outDir, doneFile) : await waitFor(doneFile);
  if (done.error) throw new Error(`the shared ViT-Ti scan failed: ${done.error}`);
  const summary = JSON.parse(readFileSync(join(outDir, 'scan.json'), 'utf8')) as ScanJson;
  return { outDir, summary, notices: done.notices ?? [] };
}

function takeLock(path: string): boolean {
  try {
    writeFileSync(path, String(process.pid), { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

async function runScan(model: string, outDir: string, doneFile: string): Promise<Done> {
  const notices: string[] = [];
  let done: Done;
  try {
    await scan({ model, images: IMAGES, out: outDir, ...OPTIONS, onNotice: (m) => notices.push(m) });
    await reportAfterScan({ outDir, onNotice: (m) => notices.push(m) });
    done = { notices };
  } catch (err) {
    done = { error: (err as Error).message };
  }
  // Written whole, then renamed: a waiting worker never reads half a file.
  writeFileSync(`${doneFile}.part`, JSON.stringify(done));
  renameSync(`${doneFile}.part`, doneFile);
  return done;
}

async function waitFor(doneFile: string): Promise<Done> {
  const until = Date.now() + WAIT_MS;
  while (Date.now() < until) {
    try {
      return JSON.parse(readFileSync(doneFile, 'utf8')) as Done;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await sleep(200);
  }
  throw new Error(`the shared ViT-Ti scan (${doneFile}) did not finish within ${WAIT_MS / 1000} s`);
}
