/**
 * intervene: replace a set of cells of the residual stream (the massive activations of one layer, the
 * register or CLS tokens at every layer, or an explicit list) by 0, their dataset mean, seeded noise with
 * their dataset moments, or another image's values; let the forward pass continue, and measure how much
 * the output moves, next to a control that zeroes as many random cells of ordinary magnitude.
 * Zeroing alone overstates how much a model depends on the cells' content (Parodi et al. 2026), hence the
 * four modes. Writes <out>/intervene.json; the runs themselves are in intervene-run.ts.
 */
import { ensureOutputDir } from '../contracts/atomic.js';
import { join, resolve } from 'node:path';
import { MassivitError, invalidOption } from '../contracts/errors.js';
import { layerHook } from '../contracts/hooks.js';
import { DEFAULT_LIMITS } from '../images/model-view.js';
import { checkRanges } from './checks.js';
import { checkInputFolder, checkOutputFolder } from './paths.js';
import { loadModel, type ModelSpec } from '../model/load.js';
import { readScanJson } from '../outputs/scan-json-read.js';
import type { ScanJson } from '../outputs/scan-json.js';
import { openRunner } from '../run/runner.js';
import type { RunOptions } from '../run/session.js';
import { scan, writeJsonAtomic } from './scan.js';
import { INTERVENE_FILE, STORE_FILE } from '../contracts/files.js';
import { openStoreReadOnly } from '../store/reads.js';
import { scanCells } from '../store/queries-intervene.js';
import { cellsAt } from '../tap/edits.js';
import { measure, outputChoice, type InterveneOptions, type Target } from './intervene-run.js';
import { INTERVENTION_MODES, INTERVENTION_TARGETS, type CellRef, type InterveneJson, type InterventionMode } from '../outputs/intervene-json.js';

export * from '../outputs/intervene-json.js';
export type { InterveneOptions } from './intervene-run.js';

/** Parses `token:dim,token:dim`. */
export function parseCells(text: string): CellRef[] {
  const cells = text.split(',').map((part) => {
    const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(part);
    if (!m) throw invalidOption('--cells', 'a list of token:dim pairs such as 1:41,14:41', text);
    return { token: Number(m[1]), dim: Number(m[2]) };
  });
  return cells;
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
  const { scanDir, summary } = await scanOf(spec, opts, outDir, 'the cells');
  const chosen = typeof at === 'number' ? { layer: at, atSource: 'explicit' as const } : emergenceLayer(summary);
  if (!chosen) throw new MassivitError('BAD_OPTION', `--at auto: the scan in ${scanDir} found no massive activations or near-misses`, 'Pass --at <layer> and --cells token:dim,...');
  const { layer, atSource } = chosen;
  if (opts.cells) return single(layer, atSource, { cells: opts.cells, cellsSource: 'explicit', scanDir });
  const found = massiveCells(scanDir, layer);
  return single(layer, atSource, { cells: found.cells, cellsSource: found.kind === 'massive' ? 'scan: massive' : 'scan: near-miss', scanDir });
}

/** The massive (else near-miss) cells a scan found at one layer. */
/** What scanOf needs of intervene's or bias's options. */
interface ScanSource {
  scan?: string;
  images: string;
  batch?: number;
  device?: RunOptions['device'];
  threads?: number;
  limit?: number;
  maxPixels?: number;
  onNotice?: (message: string) => void;
}

/** The scan that says where the massive activations are: --scan, else a scan of --images into <out>/scan. */
export async function scanOf(spec: ModelSpec, opts: ScanSource, outDir: string, toFind: string): Promise<{ scanDir: string; summary: ScanJson }> {
  let scanDir = opts.scan ? resolve(opts.scan) : undefined;
  if (!scanDir) {
    scanDir = join(outDir, 'scan');
    opts.onNotice?.(`no --scan given: scanning ${opts.images} into ${scanDir} to find ${toFind}`);
    await scan({ model: spec, images: opts.images, out: scanDir, batch: opts.batch, device: opts.device, threads: opts.threads, limit: opts.limit, maxPixels: opts.maxPixels, view: false });
  }
  return { scanDir, summary: readScanJson(scanDir) };
}

/** `--at auto`: the first layer with massive activations, else with near-misses; undefined when neither. */
export function emergenceLayer(summary: ScanJson): { layer: number; atSource: 'emergence' | 'near-miss emergence' } | undefined {
  if (summary.emergence.firstLayer !== null) return { layer: summary.emergence.firstLayer, atSource: 'emergence' };
  if (summary.nearMissEmergence.firstLayer !== null) return { layer: summary.nearMissEmergence.firstLayer, atSource: 'near-miss emergence' };
  return undefined;
}

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
function checkInterveneOptions(opts: InterveneOptions): { modes: InterventionMode[]; batch: number; seed: number; maxPixels: number } {
  const modes = opts.modes ?? [...INTERVENTION_MODES];
  for (const m of modes) if (!INTERVENTION_MODES.includes(m)) throw invalidOption('--mode', `one of ${INTERVENTION_MODES.join(', ')}`, m);
  if (opts.target !== undefined && !INTERVENTION_TARGETS.includes(opts.target)) throw invalidOption('--target', `one of ${INTERVENTION_TARGETS.join(', ')}`, opts.target);
  const batch = opts.batch ?? 8;
  const maxPixels = opts.maxPixels ?? DEFAULT_LIMITS.maxPixels;
  const seed = opts.seed ?? 0;
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
