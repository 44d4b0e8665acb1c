/**
 * intervene: replace a set of cells of the residual stream (the massive activations of one layer, the
 * register or CLS tokens at every layer, or an explicit list) by 0, their dataset mean, seeded noise with
 * their dataset moments, or another image's values; let the forward pass continue, and measure how much
 * the output moves, next to a control that zeroes as many random cells of ordinary magnitude.
 * Zeroing alone overstates how much a model depends on the cells' content (Parodi et al. 2026), hence the
 * four modes. Writes <out>/intervene.json; the runs themselves are in intervene-run.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ensureOutputDir } from './atomic.js';
import { join, resolve } from 'node:path';
import { MassivitError, invalidOption } from './errors.js';
import { layerHook } from './hooks.js';
import { DEFAULT_LIMITS } from './images/preprocess.js';
import { checkRanges } from './options/check.js';
import { checkInputFolder, checkOutputFolder } from './options/paths.js';
import type { TokenRole } from './model/layout.js';
import { loadModel, type ModelSpec } from './model/load.js';
import type { ScanJson } from './report/scan-json.js';
import { openRunner } from './run/runner.js';
import type { Device, RunOptions } from './run/session.js';
import { scan, writeJsonAtomic } from './scan.js';
import { INTERVENE_FILE, STORE_FILE, SUMMARY_FILE } from './contracts/files.js';
import { openStoreReadOnly } from './store/reads.js';
import { scanCells } from './store/queries-intervene.js';
import { cellsAt } from './tap/edits.js';
import { measure, outputChoice } from './intervene-run.js';

export type InterventionMode = 'zero' | 'mean' | 'noise' | 'shuffle';
export const INTERVENTION_MODES: readonly InterventionMode[] = ['zero', 'mean', 'noise', 'shuffle'];
export type InterventionTarget = 'massive' | 'registers' | 'cls' | 'cells';
export const INTERVENTION_TARGETS: readonly InterventionTarget[] = ['massive', 'registers', 'cls', 'cells'];

export interface CellRef {
  token: number;
  dim: number;
}

export interface InterveneOptions {
  model: string | ModelSpec;
  images: string;
  out: string;
  /**
   * hidden_states index. 'auto': for `massive`/`cells` the scan's emergence layer (massive, else near-miss);
   * for `registers`/`cls` layer 0. Token targets edit every layer from this one to the last block's input.
   */
  at?: number | 'auto';
  modes?: InterventionMode[];
  /** What is edited (default `massive`, or `cells` when `cells` is given). */
  target?: InterventionTarget;
  /** A scan folder whose cells are used; without it (and without `cells`) a scan is run into <out>/scan. */
  scan?: string;
  /** Explicit cells (target `cells`). */
  cells?: CellRef[];
  /** Seeds the control cells (seed), the noise draws (seed + 1) and the shuffle derangement (seed + 2). */
  seed?: number;
  batch?: number;
  device?: Device;
  threads?: number;
  limit?: number;
  maxPixels?: number;
  onProgress?: (p: { phase: string; done: number; total: number }) => void;
  onNotice?: (message: string) => void;
}

export interface InterveneCell extends CellRef {
  role: TokenRole;
  position?: [number, number];
  /** Dataset mean of the signed value (what mode 'mean' writes). */
  mean: number;
  meanAbs: number;
  /** Dataset standard deviation (what mode 'noise' draws with); absent in older files. */
  sd?: number;
}

export interface InterveneResult {
  mode: InterventionMode | 'control-zero';
  /** Cells edited per image: all layers together. */
  cells: number;
  /** Classifiers: share of images whose top-1 class is unchanged. */
  top1Agreement: number | null;
  /** Classifiers: mean and max over images of KL(original ‖ modified) of the class distribution, in nats. */
  meanKL: number | null;
  maxKL: number | null;
  /** Cosine similarity of the output embedding (see `output`) to the original: mean and min over images. */
  cosine: { mean: number; min: number };
  /** Leave-one-out kNN accuracy on the modified embeddings (class sub-folders only). */
  knnAccuracy: number | null;
  /** noise, shuffle: the seed of the draws / of the derangement. */
  seed?: number;
}

export interface InterveneJson {
  version: 1;
  tool: { name: 'massivit'; version: string };
  model: { name: string; family: string; sha256: string; kind: 'classifier' | 'features'; output: string; synthetic?: boolean };
  /** What was edited; absent in files written before targets existed (then: massive, or cells when explicit). */
  target?: InterventionTarget;
  /** The first (for massive/cells: the only) hidden_states index edited. */
  layer: number;
  hook: string;
  /** Every hidden_states index edited, ascending; absent in older files (= [layer]). */
  layers?: number[];
  at: { requested: number | 'auto'; source: 'explicit' | 'emergence' | 'near-miss emergence' | 'first layer' };
  cells: {
    source: 'explicit' | 'scan: massive' | 'scan: near-miss' | 'registers' | 'cls';
    scan: string | null;
    /** The cells at `layer`, with their dataset moments there (the same cells are edited at every layer). */
    list: InterveneCell[];
    /** Token targets: the tokens edited whole (every dim). */
    tokens?: number[];
  };
  control: { seed: number; rule: string; list: InterveneCell[] };
  images: { used: number; failed: number; errors: { path: string; reason: string }[] };
  classes: string[] | null;
  knn: { k: number; metric: 'cosine'; baseline: number } | null;
  results: InterveneResult[];
  /** How noise and shuffle draw their values (present when those modes ran). */
  rules?: Partial<Record<'noise' | 'shuffle', string>>;
}

/** Parses `token:dim,token:dim`. */
export function parseCells(text: string): CellRef[] {
  const cells = text.split(',').map((part) => {
    const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(part);
    if (!m) throw invalidOption('--cells', 'a list of token:dim pairs such as 1:41,14:41', text);
    return { token: Number(m[1]), dim: Number(m[2]) };
  });
  return cells;
}

export interface Target {
  target: InterventionTarget;
  layers: number[];
  atSource: InterveneJson['at']['source'];
  cells: CellRef[];
  tokens?: number[];
  cellsSource: InterveneJson['cells']['source'];
  scanDir: string | null;
}

// TODO(lead): contracts reader
function readScan(dir: string): ScanJson {
  const path = join(dir, SUMMARY_FILE);
  if (!existsSync(path)) throw new MassivitError('BAD_OPTION', `--scan ${dir} holds no ${SUMMARY_FILE}`, 'Pass the --out folder of a massivit scan');
  return JSON.parse(readFileSync(path, 'utf8')) as ScanJson;
}

/** Registers or CLS: every dim of those tokens at every layer from `at` (auto: 0) to the last block's input. */
function tokenTarget(spec: ModelSpec, opts: InterveneOptions, which: 'registers' | 'cls'): Target {
  const tokens = which === 'cls' ? [spec.tokens.cls] : spec.tokens.registers;
  if (tokens.length === 0) throw new MassivitError('BAD_OPTION', `--target registers: ${spec.name} has no register tokens`, 'Use --target massive, cls or cells');
  const last = spec.arch.numLayers - 1;
  const from = typeof opts.at === 'number' ? opts.at : 0;
  // hidden_states[N] is the output itself: editing it would measure the edit, not the model.
  if (from > last) throw invalidOption('--at', `a layer in 0…${last} for --target ${which} (it edits every block's input from there on)`, from);
  const D = spec.arch.hiddenSize;
  const cells = tokens.flatMap((token) => Array.from({ length: D }, (_, dim) => ({ token, dim })));
  const layers = Array.from({ length: last - from + 1 }, (_, i) => from + i);
  return { target: which, layers, atSource: typeof opts.at === 'number' ? 'explicit' : 'first layer', cells, tokens, cellsSource: which, scanDir: null };
}

async function resolveTarget(spec: ModelSpec, opts: InterveneOptions, outDir: string): Promise<Target> {
  const which = opts.target ?? (opts.cells ? 'cells' : 'massive');
  if (which === 'cells' && !opts.cells) throw invalidOption('--cells', 'a list of token:dim pairs with --target cells', 'nothing');
  if (which !== 'cells' && opts.cells) throw invalidOption('--target', `cells when --cells is given`, which);
  if (which === 'registers' || which === 'cls') return tokenTarget(spec, opts, which);
  const at = opts.at ?? 'auto';
  const single = (layer: number, atSource: Target['atSource'], rest: Pick<Target, 'cells' | 'cellsSource' | 'scanDir'>): Target => ({ target: which, layers: [layer], atSource, ...rest });
  if (opts.cells && typeof at === 'number') return single(at, 'explicit', { cells: opts.cells, cellsSource: 'explicit', scanDir: null });
  let scanDir = opts.scan ? resolve(opts.scan) : undefined;
  if (!scanDir) {
    scanDir = join(outDir, 'scan');
    opts.onNotice?.(`no --scan given: scanning ${opts.images} into ${scanDir} to find the cells`);
    await scan({ model: spec, images: opts.images, out: scanDir, batch: opts.batch, device: opts.device, threads: opts.threads, limit: opts.limit, maxPixels: opts.maxPixels, report: false });
  }
  const summary = readScan(scanDir);
  let layer: number;
  let atSource: Target['atSource'] = 'explicit';
  if (typeof at === 'number') layer = at;
  else if (summary.emergence.firstLayer !== null) [layer, atSource] = [summary.emergence.firstLayer, 'emergence'];
  else if (summary.nearMissEmergence.firstLayer !== null) [layer, atSource] = [summary.nearMissEmergence.firstLayer, 'near-miss emergence'];
  else throw new MassivitError('BAD_OPTION', `--at auto: the scan in ${scanDir} found no massive activations or near-misses`, 'Pass --at <layer> and --cells token:dim,...');
  if (opts.cells) return single(layer, atSource, { cells: opts.cells, cellsSource: 'explicit', scanDir });
  const found = massiveCells(scanDir, layer);
  return single(layer, atSource, { cells: found.cells, cellsSource: found.kind === 'massive' ? 'scan: massive' : 'scan: near-miss', scanDir });
}

/** The massive (else near-miss) cells a scan found at one layer. */
export function massiveCells(scanDir: string, layer: number): NonNullable<ReturnType<typeof scanCells>> {
  const db = openStoreReadOnly(scanDir);
  if (!db) throw new MassivitError('BAD_OPTION', `--scan ${scanDir} holds no ${STORE_FILE}`, 'Pass the --out folder of a massivit scan');
  let found: ReturnType<typeof scanCells>;
  try {
    found = scanCells(db, layer);
  } finally {
    db.close();
  }
  if (!found) throw new MassivitError('BAD_OPTION', `The scan in ${scanDir} found no massive or near-miss cells at layer ${layer}`, 'Pass --cells token:dim,... or another --at');
  return found;
}

/** Checks the options that need no model; returns the batch, seed and pixel limit to use. */
export function checkInterveneOptions(opts: InterveneOptions): { modes: InterventionMode[]; batch: number; seed: number; maxPixels: number } {
  const modes = opts.modes ?? [...INTERVENTION_MODES];
  for (const m of modes) if (!INTERVENTION_MODES.includes(m)) throw invalidOption('--mode', `one of ${INTERVENTION_MODES.join(', ')}`, m);
  if (opts.target !== undefined && !INTERVENTION_TARGETS.includes(opts.target)) throw invalidOption('--target', `one of ${INTERVENTION_TARGETS.join(', ')}`, opts.target);
  const batch = opts.batch ?? 8;
  const maxPixels = opts.maxPixels ?? DEFAULT_LIMITS.maxPixels;
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(batch) || batch < 1) throw invalidOption('--batch', 'a positive integer', batch);
  if (!Number.isInteger(seed)) throw invalidOption('--seed', 'an integer', seed);
  checkRanges({ batch, seed, threads: opts.threads, limit: opts.limit, maxPixels, at: opts.at === 'auto' ? undefined : opts.at });
  checkInputFolder('--images', opts.images);
  checkOutputFolder('--out', opts.out);
  return { modes, batch, seed, maxPixels };
}

/** Runs the interventions and writes <out>/intervene.json (atomically). */
export async function intervene(opts: InterveneOptions): Promise<{ report: InterveneJson; outDir: string; path: string }> {
  const checked = checkInterveneOptions(opts);
  const loaded = typeof opts.model === 'string' ? loadModel(opts.model) : opts.model;
  const outDir = resolve(opts.out);
  ensureOutputDir(outDir);
  // A bare .onnx has no config: its width, which shapes the edit's inputs, is measured by a probe pass first.
  const spec = loaded.arch.hiddenSize ? loaded : await measuredSpec(loaded);
  const target = await resolveTarget(spec, opts, outDir);
  const T = spec.tokens.sequenceLength;
  const D = spec.arch.hiddenSize;
  for (const c of target.cells) {
    if (!(Number.isInteger(c.token) && c.token >= 0 && c.token < T && Number.isInteger(c.dim) && c.dim >= 0 && c.dim < D)) {
      throw invalidOption('--cells', `token in 0…${T - 1} and dim in 0…${D - 1}`, `${c.token}:${c.dim}`);
    }
  }
  const edits = target.layers.map((layer) => cellsAt(layer, T, D));
  const choice = outputChoice(spec.outputNames);
  // The hooks are exposed as computed (before the edits): the cells' dataset moments come from the same pass.
  const runOpts: RunOptions = { device: opts.device ?? 'auto', threads: opts.threads ?? 0 };
  const runner = await openRunner(spec, { expose: edits.map((e) => e.hook), edits, keepOutputs: true }, runOpts);
  if (runner.open.notice) opts.onNotice?.(runner.open.notice);
  try {
    const report = await measure({ spec, opts, target, hooks: edits.map((e) => e.hook), choice, runner, ...checked });
    const path = join(outDir, INTERVENE_FILE);
    writeJsonAtomic(path, report);
    return { report, outDir, path };
  } finally {
    await runner.close();
  }
}

export async function measuredSpec(spec: ModelSpec): Promise<ModelSpec> {
  const probe = await openRunner(spec, { expose: [layerHook(0)] }, { device: 'cpu', threads: 1 });
  await probe.close();
  return probe.spec;
}
