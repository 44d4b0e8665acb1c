/**
 * scan: model → tap → images → run → analyze → store → scan.json (+ report). The library entry point the
 * CLI calls. Resumable: the SQLite store is the source of truth, keyed by image content hash.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { diskError, ensureOutputDir, writeFileAtomic } from '../contracts/atomic.js';
import { DEFAULT_CRITERIA, validateCriteria, type ScanCriteria } from '../contracts/criteria.js';
import { openAnalyser } from './analyser.js';
import type { BatchJob } from './analysis.js';
import { layerHook } from '../contracts/hooks.js';
import { resolveAnalysis, type AnalysisOptions } from '../contracts/analysis.js';
import { MassivitError, errorMessage } from '../contracts/errors.js';
import type { ImageError } from '../contracts/rows.js';
import { DEFAULT_LIMITS } from '../images/model-view.js';
import { inShard, type Shard } from '../images/shard.js';
import { walkImages, type ImageEntry } from '../images/walk.js';
import { assertOutputFolder } from '../store/output-guard.js';
import { checkScanOptions } from './checks.js';
import { loadModel, type ModelSpec } from '../model/load.js';
import type { ScanJson } from '../outputs/scan-json.js';
import { captureView, type CaptureOptions } from './view.js';
import type { Device } from '../run/session.js';
import { openRunner, type Runner } from '../run/runner.js';
import { BIG_MODEL_BYTES, chooseBatch, costNotice, speedNotice } from '../run/cost.js';
import { decodeInOrder, type Prepared } from '../run/stream.js';
import { getMeta, openStore, pruneOrphans, setMeta, settleStore, type Db, type ImageFailure, type KnownFile } from '../store/db.js';
import { assertImagesOutsideOut, IMAGES_ROOT_KEY, realFolder } from '../store/images-root.js';
import { assertResumable } from '../store/resume.js';
import { CONTENT_LOOKUP_MODULE } from '../store/known.js';
import { dropUnseen, dropUnselected } from '../store/prune.js';
import { removeStaleLitter } from '../store/litter.js';
import type { TapPlan } from '../tap/plan.js';
import { formatShard, recordScanFinished, recordScanStart, saveAnalysis } from '../store/scan-meta.js';
import { scanJsonFrom, summaryInputs } from './scan-summary.js';

export interface ScanProgress {
  done: number;
  total: number;
  failed: number;
  /** Images whose content was already in the store (resume). */
  reused: number;
}

export interface ScanOptions {
  model: string | ModelSpec;
  /** Run a DINOv2 / DINOv2-reg model (given as a path) at this input size instead of its config's. */
  imageSize?: number;
  images: string;
  out: string;
  batch?: number;
  device?: Device;
  threads?: number;
  criteria?: Partial<ScanCriteria>;
  topK?: number;
  /** Scan at most this many images (after sharding). */
  limit?: number;
  shard?: Shard;
  maxPixels?: number;
  onProgress?: (p: ScanProgress) => void;
  /** Called once the model is open, e.g. to print a CUDA fallback notice. */
  onNotice?: (message: string) => void;
  /**
   * Capture views/feature-token.json with the scan's own session after scan.json (default true; the report
   * shows it). A failure only warns. The report itself is the next stage: `reportAfterScan` (pipelines/report.ts).
   */
  view?: boolean;
  /** Token-norm statistics in scan.json `norms` (default true). */
  norms?: boolean;
  /** Tap attention and add the attention-sink statistics, scan.json `attention` (default false). */
  attention?: boolean;
  /** Fixed high-norm threshold for `norms` (default 150, Darcet et al.). */
  normThreshold?: number;
  /** Drop the results of files the walk does not find now (default: keep them and say how many). */
  prune?: boolean;
}

import { STORE_FILE, SUMMARY_FILE } from '../contracts/files.js';

/** Options that change results: a store is reused only when these match. */
function fingerprint(spec: ModelSpec, criteria: ScanCriteria, topK: number, maxPixels: number, analysis?: AnalysisOptions): string {
  // Attention adds per-image rows, so a store is resumed only with the same setting (absent when off: old stores match).
  return JSON.stringify({ model: spec.sha256, preprocess: spec.preprocess, criteria, topK, maxPixels, ...(analysis?.attention ? { attention: true } : {}) });
}

/**
 * Opens (or creates) the output folder and its store; refuses a folder that holds something else, or a
 * scan of another image folder (`images`, the real path). Records the fingerprint and the image root.
 */
function openOutput(out: string, print: string, images?: string, shard?: Shard): Db {
  const dir = resolve(out);
  if (existsSync(dir)) {
    removeStaleLitter(dir, STORE_FILE); // a killed merge or write into this folder
    assertOutputFolder(dir, out, STORE_FILE);
    if (images !== undefined) assertResumable({ out, storePath: join(dir, STORE_FILE), images, shard: shardName(shard), fingerprint: print });
  } else ensureOutputDir(dir);
  let db: Db;
  try {
    db = openStore(join(dir, STORE_FILE));
  } catch (err) {
    throw diskError(err, join(out, STORE_FILE), 'nothing was changed') ?? err;
  }
  try {
    const previous = getMeta(db, 'fingerprint');
    if (previous !== undefined && previous !== print) {
      throw new MassivitError('BAD_OUTPUT', `--out ${out} holds a scan made with a different model or options; refusing to mix results`, 'Use a new --out folder, or the same model and options to resume');
    }
  } catch (err) {
    db.close();
    throw err;
  }
  setMeta(db, 'fingerprint', print);
  if (images !== undefined) setMeta(db, IMAGES_ROOT_KEY, images); // the report finds photos for thumbnails here
  return db;
}

const shardName = (shard?: Shard) => (shard ? formatShard(shard) : 'all');

/** Atomic write: a reader never sees a half-written scan.json. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

export interface ScanResult {
  summary: ScanJson;
  outDir: string;
  /** Earlier files not found by this walk whose results were kept (0 with `prune`). */
  kept: number;
}

export async function scan(opts: ScanOptions): Promise<ScanResult> {
  checkScanOptions(opts, STORE_FILE); // before the model loads: a bad path or number costs nothing (contracts/ranges.ts)
  const topK = opts.topK ?? 16;
  const maxPixels = opts.maxPixels ?? DEFAULT_LIMITS.maxPixels;
  const criteria = validateCriteria({ ...DEFAULT_CRITERIA, ...opts.criteria });
  const loaded = typeof opts.model === 'string' ? loadModel(opts.model, { imageSize: opts.imageSize }) : opts.model;
  const layers = Array.from({ length: loaded.arch.numLayers + 1 }, (_, i) => i);
  const analysis = resolveAnalysis({ norms: opts.norms, attention: opts.attention, normThreshold: opts.normThreshold });
  // The image root is checked before any work: a resume from another (or an empty, unmounted) folder is refused.
  const imagesRoot = realFolder(opts.images);
  assertImagesOutsideOut(opts.images, opts.out);
  assertResumable({ out: opts.out, storePath: join(resolve(opts.out), STORE_FILE), images: imagesRoot, shard: shardName(opts.shard) });
  // Every layer's hidden state leaves the session whole and is reduced by the SIMD kernel: cheaper than the
  // in-graph reductions (BENCHMARKS.md, "Where the time goes").
  const plan: TapPlan = { expose: layers.map(layerHook), reduce: { layers: [], attention: analysis.attention, numHeads: loaded.arch.numHeads, topK, criteria } };
  const tapped = await openRunner(loaded, plan, { device: opts.device ?? 'auto', threads: opts.threads ?? 0 });
  const spec = tapped.spec; // the probe pass measures a bare .onnx model's width
  if (tapped.open.notice) opts.onNotice?.(tapped.open.notice);
  const { batch, notices } = chooseBatch(opts.batch, spec, layers.length);
  for (const n of [...notices, costNotice(spec, layers.length, batch)]) if (n) opts.onNotice?.(n);
  const walked = await walkImages(imagesRoot, { exclude: [opts.out] }); // never scan our own output
  let entries = walked.entries;
  if (opts.shard) entries = entries.filter((e) => inShard(e.path, opts.shard!));
  if (opts.limit !== undefined) entries = entries.slice(0, opts.limit);
  const walkErrors = walked.errors.filter((e) => !opts.shard || inShard(e.path, opts.shard));
  const outDir = resolve(opts.out);
  const db = openOutput(outDir, fingerprint(spec, criteria, topK, maxPixels, analysis), imagesRoot, opts.shard);
  let summary: ScanJson;
  let kept: number;
  try {
    saveAnalysis(db, analysis);
    recordScanStart(db, summaryInputs(spec, criteria, topK), opts.shard); // merge rebuilds scan.json from this
    const visible = new Set([...walked.entries, ...walked.errors].map((e) => e.path));
    dropUnselected(db, visible, new Set([...entries, ...walkErrors].map((e) => e.path)));
    await runScan(db, tapped, criteria, entries, walkErrors, batch, maxPixels, opts.onProgress, speedReport(spec, entries.length, opts.onNotice));
    // Only now: a renamed file found its content by hash during the run.
    kept = dropUnseen(db, visible, opts.prune === true);
    if (kept > 0) opts.onNotice?.(`kept the results of ${kept} earlier file${kept === 1 ? '' : 's'} not found under ${opts.images} now (pass --prune to drop them)`);
    pruneOrphans(db);
    summary = buildScanJson(db, spec, criteria, topK, opts.shard);
    writeJsonAtomic(join(outDir, SUMMARY_FILE), summary);
    recordScanFinished(db);
    settleStore(db);
    if (opts.view !== false) await captureViewOrWarn({ runner: tapped, scan: summary, db, imagesRoot, outDir, maxPixels }, opts.onNotice);
  } catch (err) {
    // Each batch is one transaction: what was committed stays, and the same command resumes from it.
    throw diskError(err, join(opts.out, STORE_FILE), 'the images stored before it are kept; free space and run the same scan again to resume') ?? err;
  } finally {
    db.close();
    await tapped.close();
  }
  return { summary, outDir, kept };
}

/** The view needs one more forward pass on one image; its failure never fails the finished scan. */
async function captureViewOrWarn(o: CaptureOptions, onNotice?: (message: string) => void): Promise<void> {
  try {
    await captureView(o);
  } catch (err) {
    onNotice?.(`feature × token view skipped: ${errorMessage(err).split('\n')[0]}`);
  }
}

async function runScan(
  db: Db,
  tapped: Runner,
  criteria: ScanCriteria,
  entries: ImageEntry[],
  walkErrors: ImageError[],
  batch: number,
  maxPixels: number,
  onProgress?: (p: ScanProgress) => void,
  onFirstBatch?: (seconds: number, images: number) => void,
): Promise<void> {
  const { spec, plan } = tapped;
  // Statistics, observations and SQLite rows of batch i are made in a worker while the session runs batch i + 1.
  const analyser = openAnalyser({
    shape: { layers: plan.expose.length, batch, tokens: spec.tokens.sequenceLength, dims: spec.arch.hiddenSize, topK: plan.reduce!.topK },
    criteria, layout: spec.tokens, numBlocks: spec.hooks.numBlocks, store: db.name,
  });
  const attentionOutputs = tapped.outputs.filter((n) => !(plan.expose as string[]).includes(n)); // the tap's attention summaries
  const progress: ScanProgress = { done: 0, total: entries.length, failed: walkErrors.length, reused: 0 };
  let written = analyser.analyse({ images: [], hidden: [], failures: walkErrors.map((e) => ({ ...e, hash: null })), known: [] });
  written.catch(() => {}); // awaited by the first flush
  let pending: Prepared<'ok'>[] = [];
  let failures: ImageFailure[] = [];
  let reused: KnownFile[] = [];
  const flush = async () => {
    const items = pending;
    const job: BatchJob = { images: items.map((p) => ({ path: p.entry.path, hash: p.hash!, width: p.width, height: p.height })), hidden: [], failures, known: reused };
    pending = [];
    failures = [];
    reused = [];
    if (items.length > 0) {
      const started = performance.now();
      const out = await tapped.run(items.map((p) => p.pixels));
      onFirstBatch?.((performance.now() - started) / 1000, items.length);
      onFirstBatch = undefined;
      job.hidden = plan.expose.map((hook) => out[hook].data as Float32Array); // plan.expose[i] is layerHook(i)
      if (plan.reduce!.attention) job.attention = Object.fromEntries(attentionOutputs.map((n) => [n, { data: out[n].data as Float32Array, dims: out[n].dims }]));
    }
    const stored = analyser.analyse(job);
    stored.catch(() => {}); // its failure surfaces through `written` below; not "unhandled" while the last batch is awaited
    await written; // batches are stored in order; at most two are held at once
    const count = job.images.length + job.failures.length + job.known.length;
    written = stored.then(() => {
      progress.done += count;
      onProgress?.({ ...progress });
    });
    written.catch(() => {}); // awaited by the next flush; this only keeps Node from calling it unhandled meanwhile
  };
  const ahead = Math.max(4, batch * 2);
  // Files are read, hashed (contents already in the store are skipped) and decoded in a worker thread.
  // The worker closes when the loop ends (or is left by an error).
  const decoded = decodeInOrder(entries, { preprocess: spec.preprocess, maxPixels, store: db.name, lookup: CONTENT_LOOKUP_MODULE }, ahead);
  try {
    for await (const p of decoded) {
      if (p.status === 'known') {
        reused.push({ path: p.entry.path, hash: p.hash });
        progress.reused += 1;
      } else if (p.status === 'error') {
        failures.push({ path: p.entry.path, hash: p.hash, reason: p.reason });
        progress.failed += 1;
      } else pending.push(p);
      if (pending.length >= batch || failures.length + reused.length >= 64) await flush();
    }
    await flush();
    await written;
  } finally {
    await analyser.close();
  }
}

/** A big model's seconds per image, said once after the first batch. */
function speedReport(spec: ModelSpec, total: number, onNotice?: (m: string) => void): ((s: number, n: number) => void) | undefined {
  if (!onNotice || spec.weightBytes < BIG_MODEL_BYTES) return undefined;
  return (seconds, images) => onNotice(speedNotice(seconds, images, total));
}

function buildScanJson(db: Db, spec: ModelSpec, criteria: ScanCriteria, topK: number, shard?: Shard): ScanJson {
  // One code path for scans and merges (store/scan-meta.ts), so a merge of all shards equals a single run.
  return scanJsonFrom(db, summaryInputs(spec, criteria, topK), shard ? [shard] : undefined);
}
