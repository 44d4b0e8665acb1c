/**
 * merge: combine the stores of shard scans (`scan --shard i/N`, Slurm array tasks, Kubernetes Indexed Job
 * pods) into one scan folder. All statistics in scan.json are recomputed from the per-image rows in
 * file-path order (counts, sums, maxima, and per-image medians), so a merge of all N shards writes the
 * same scan.json as one process scanning every image; it then has no `shard` field, exactly like a single
 * run. A merge of only some shards lists them in `shard`. No model file is needed: what scan.json needs
 * beyond the rows is in each store's meta table (store/scan-meta.ts).
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { diskError } from '../contracts/atomic.js';
import { MassivitError, errorMessage } from '../contracts/errors.js';
import { parseShard, type Shard } from '../images/shard.js';
import { describeFigures, writeScanReport } from './report.js';
import type { ScanJson } from '../outputs/scan-json.js';
import { getMeta, openStore, setMeta, settleStore, type Db } from '../store/db.js';
import { sameRoot } from '../store/images-root.js';
import { removeStaleLitter } from '../store/litter.js';
import { copyShardRows } from '../store/merge.js';
import { openStoreForReading } from '../store/read.js';
import { loadSummaryInputs, recordScanFinished } from '../store/scan-meta.js';
import type { SummaryInputs } from '../outputs/scan-inputs.js';
import { scanJsonFrom } from './scan-summary.js';
import { writeJsonAtomic } from './scan.js';
import { STORE_FILE, SUMMARY_FILE } from '../contracts/files.js';

export interface MergeOptions {
  /** Shard output folders (or their scan.sqlite files). */
  shards: string[];
  out: string;
  /** Write <out>/report.html and figures after scan.json (default true); failures only notify. */
  report?: boolean;
  onNotice?: (message: string) => void;
}

export interface MergeResult {
  summary: ScanJson;
  outDir: string;
  /** The shards merged ('all' for a store that was a whole scan). */
  shards: string[];
}

/** The meta a shard brings; stores that disagree on any of these must not be merged. */
interface ShardMeta {
  shown: string;
  path: string;
  fingerprint: string;
  analysis: string | undefined;
  inputs: SummaryInputs;
  shard: string;
  imagesRoot: string | undefined;
}

const HINT = 'Pass the --out folders of finished `massivit scan --shard i/N` runs';

function storePath(arg: string): string {
  const p = resolve(arg);
  if (existsSync(p) && statSync(p).isDirectory()) return join(p, STORE_FILE);
  return p;
}

function readShardMeta(arg: string): ShardMeta {
  const path = storePath(arg);
  if (!existsSync(path)) throw new MassivitError('BAD_OPTION', `${arg} holds no ${STORE_FILE}`, HINT);
  let db: Db | undefined;
  try {
    db = openStoreForReading(path);
    const fingerprint = getMeta(db, 'fingerprint');
    const inputs = loadSummaryInputs(db);
    if (fingerprint === undefined) throw new MassivitError('BAD_OPTION', `${arg}: ${STORE_FILE} is not a massivit scan (no fingerprint)`, HINT);
    if (inputs === undefined) throw new MassivitError('BAD_OPTION', `${arg} was scanned by an older massivit that did not record what merging needs`, 'Re-run the same scan command with this version (images already analysed are not recomputed), then merge');
    if (getMeta(db, 'finished') !== '1') throw new MassivitError('BAD_OPTION', `${arg}: its scan has not finished (still running, or killed)`, 'Re-run that shard\'s scan command to complete it (it resumes where it stopped), then merge');
    return { shown: arg, path, fingerprint, analysis: getMeta(db, 'analysis'), inputs, shard: getMeta(db, 'shard') ?? 'all', imagesRoot: getMeta(db, 'imagesRoot') };
  } catch (err) {
    if (err instanceof MassivitError) throw err;
    throw new MassivitError('BAD_OPTION', `${arg}: cannot read ${STORE_FILE}: ${errorMessage(err)}`, HINT);
  } finally {
    db?.close();
  }
}

/** The image folder of the shards; shards of different folders would make a "complete" scan of neither. */
function imagesRootOf(metas: ShardMeta[]): string | undefined {
  // A store of an older version records no root; the file-row check in copyShardRows still applies to it.
  const withRoot = metas.filter((m) => m.imagesRoot !== undefined);
  const first = withRoot[0];
  for (const m of withRoot) {
    if (!sameRoot(m.imagesRoot!, first.imagesRoot!)) {
      throw new MassivitError('BAD_OPTION', `${m.shown} is a scan of ${m.imagesRoot}, ${first.shown} of ${first.imagesRoot}: refusing to merge shards of different image folders`, 'Merge only the shards of one dataset (the same --images folder)');
    }
  }
  return first?.imagesRoot;
}

/** Same model, preprocessing, criteria, analysis options and image folder everywhere, or nothing is written. */
function checkCompatible(metas: ShardMeta[]): string | undefined {
  const [first, ...rest] = metas;
  for (const m of rest) {
    if (m.fingerprint !== first.fingerprint) {
      throw new MassivitError('BAD_OPTION', `${m.shown} was scanned with a different model or options than ${first.shown} (fingerprints differ); refusing to merge`, 'Merge only shards of one scan command (same model, criteria, --top-k, --max-pixels)');
    }
    if (JSON.stringify(m.inputs) !== JSON.stringify(first.inputs)) {
      throw new MassivitError('BAD_OPTION', `${m.shown} records other model details than ${first.shown} (e.g. the model folder name); refusing to merge`, 'Run every shard with the same --model path and massivit version');
    }
    if (m.analysis !== first.analysis) {
      throw new MassivitError('BAD_OPTION', `${m.shown} was scanned with different analysis options (--norms/--norm-threshold/--attention) than ${first.shown}; refusing to merge`, 'Merge only shards of one scan command');
    }
  }
  return imagesRootOf(metas);
}

/**
 * Which shards the merge covers: undefined when it is a whole dataset (all i/N for one N, or any store
 * that was a whole scan), else the shards present. Shards of different counts N overlap: refused.
 */
function coverage(shards: string[]): Shard[] | undefined {
  if (shards.includes('all')) return undefined;
  // A store that is itself a partial merge records its shards as 'i/N,j/N'.
  const names = [...new Set(shards.flatMap((s) => s.split(',')))];
  const parsed = names.map(parseShard).sort((a, b) => a.index - b.index);
  const counts = new Set(parsed.map((s) => s.count));
  if (counts.size > 1) throw new MassivitError('BAD_OPTION', `the stores are shards of different splits (${names.join(', ')}); refusing to merge`, 'Merge the shards of one --shard i/N split');
  return parsed.length === parsed[0].count ? undefined : parsed;
}

/** --out must be new, empty, or an earlier merge output (replaced whole); never a scan's own folder. */
function prepareOut(out: string, inputs: string[]): string {
  const dir = resolve(out);
  if (inputs.some((p) => resolve(p) === dir || storePath(p) === join(dir, STORE_FILE))) {
    throw new MassivitError('BAD_OUTPUT', `--out ${out} is one of the shards being merged`, 'Choose a new folder for the merged scan');
  }
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    return dir;
  }
  if (!statSync(dir).isDirectory()) throw new MassivitError('BAD_OUTPUT', `--out ${out} is a file, not a folder`, 'Choose a new folder for the merged scan');
  removeStaleLitter(dir, STORE_FILE); // a killed earlier merge
  if (readdirSync(dir).length === 0) return dir;
  const store = join(dir, STORE_FILE);
  let merged = false;
  if (existsSync(store)) {
    try {
      const db = openStoreForReading(store);
      merged = getMeta(db, 'merged') === '1';
      db.close();
    } catch {
      merged = false;
    }
  }
  if (!merged) throw new MassivitError('BAD_OUTPUT', `--out ${out} is not empty and holds no earlier merge: refusing to write into it`, 'Choose a new folder for the merged scan');
  return dir;
}

/** The report needs no model; the feature × token view, which does, is left out of merged reports. */
async function writeReport(outDir: string, notice: (m: string) => void): Promise<void> {
  try {
    const result = await writeScanReport(outDir);
    for (const note of result.notes) notice(`report: ${note}`);
    if (result.figures?.skipped) notice(`report.html written; ${describeFigures(result.figures)}`);
  } catch (err) {
    notice(`report not written: ${errorMessage(err).split('\n')[0]} (scan.json is complete; retry with \`massivit report ${outDir}\`)`);
  }
}

export async function merge(opts: MergeOptions): Promise<MergeResult> {
  if (opts.shards.length === 0) throw new MassivitError('BAD_OPTION', 'merge needs at least one shard folder', HINT);
  const metas = opts.shards.map(readShardMeta);
  const imagesRoot = checkCompatible(metas);
  const covered = coverage(metas.map((m) => m.shard));
  const outDir = prepareOut(opts.out, opts.shards);
  // Build beside the final store and rename at the end: a killed merge never leaves a half-merged scan.sqlite.
  const tmp = join(outDir, `${STORE_FILE}.merging-${process.pid}`);
  // Same pid, earlier run (pid 1 in every container): its WAL must not be replayed into this merge.
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(tmp + suffix, { force: true });
  let db: Db;
  try {
    db = openStore(tmp);
  } catch (err) {
    throw diskError(err, tmp, 'nothing was changed') ?? err;
  }
  let summary: ScanJson;
  try {
    const first = metas[0];
    db.transaction(() => {
      setMeta(db, 'fingerprint', first.fingerprint);
      if (first.analysis !== undefined) setMeta(db, 'analysis', first.analysis);
      if (imagesRoot !== undefined) setMeta(db, 'imagesRoot', imagesRoot);
      setMeta(db, 'summaryInputs', JSON.stringify(first.inputs));
      setMeta(db, 'shard', covered ? covered.map((s) => `${s.index}/${s.count}`).join(',') : 'all');
      setMeta(db, 'merged', '1');
      setMeta(db, 'mergedFrom', JSON.stringify(metas.map((m) => ({ store: m.path, shard: m.shard }))));
    })();
    for (const m of metas) copyShardRows(db, m.path, m.shown);
    summary = scanJsonFrom(db, first.inputs, covered);
    recordScanFinished(db);
    settleStore(db);
  } catch (err) {
    db.close();
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(tmp + suffix, { force: true });
    throw diskError(err, tmp, 'the earlier merge in --out, if any, is unchanged') ?? err;
  }
  db.close();
  const final = join(outDir, STORE_FILE);
  for (const suffix of ['-wal', '-shm']) rmSync(final + suffix, { force: true });
  renameSync(tmp, final);
  writeJsonAtomic(join(outDir, SUMMARY_FILE), summary);
  if (opts.report !== false) await writeReport(outDir, opts.onNotice ?? (() => {}));
  return { summary, outDir, shards: metas.map((m) => m.shard) };
}
