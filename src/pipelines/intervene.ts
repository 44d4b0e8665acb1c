/**
 * intervene: set the massive activations of one layer to 0 or to their dataset mean, let the forward pass
 * continue, and measure how much the output moves (Sun et al. 2024: zero breaks the model, mean does not),
 * next to a control that zeroes as many random cells of ordinary magnitude. Writes <out>/intervene.json.
 * Phase 1 runs the rewritten graph with the identity edit (the unmodified model) to record the original
 * outputs and the dataset means of the cells; phase 2 runs each edit on the same images.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ensureOutputDir } from '../contracts/atomic.js';
import { join, resolve } from 'node:path';
import { argmax, CONTROL_RULE, controlCells, cosine, klDivergence, knnAccuracy } from '../analyze/effects.js';
import { MassivitError, invalidOption } from '../contracts/errors.js';
import { layerHook } from '../contracts/hooks.js';
import { DEFAULT_LIMITS } from '../images/preprocess.js';
import { walkImages } from '../images/walk.js';
import { checkRanges } from './checks.js';
import { checkInputFolder, checkOutputFolder } from './paths.js';
import { patchPosition, tokenRole, type TokenRole } from '../model/layout.js';
import { loadModel, type ModelSpec } from '../model/load.js';
import { readScanJson } from '../outputs/scan-json-read.js';
import { openRunner, type Runner } from '../run/runner.js';
import type { Device, RunOptions, ort } from '../run/session.js';
import { decodedBatches } from '../run/stream.js';
import { scan, writeJsonAtomic } from './scan.js';
import { STORE_FILE, SUMMARY_FILE } from '../contracts/files.js';
import { openStoreReadOnly } from '../store/reads.js';
import { scanCells } from '../store/queries-intervene.js';
import { cellsAt, type CellsValues } from '../tap/edits.js';
import { VERSION } from '../contracts/version.js';

import { INTERVENE_FILE } from '../contracts/files.js';
import { INTERVENTION_MODES, type CellRef, type InterveneCell, type InterveneJson, type InterveneResult, type InterventionMode } from '../outputs/intervene-json.js';

export { INTERVENTION_MODES, type CellRef, type InterveneJson, type InterveneResult, type InterventionMode } from '../outputs/intervene-json.js';
const KNN_K = 5;

export interface InterveneOptions {
  model: string | ModelSpec;
  images: string;
  out: string;
  /** hidden_states index, or 'auto' = the scan's emergence layer (massive, else near-miss). */
  at?: number | 'auto';
  modes?: InterventionMode[];
  /** A scan folder whose cells are used; without it (and without `cells`) a scan is run into <out>/scan. */
  scan?: string;
  /** Explicit cells; overrides the scan's. */
  cells?: CellRef[];
  seed?: number;
  batch?: number;
  device?: Device;
  threads?: number;
  limit?: number;
  maxPixels?: number;
  onProgress?: (p: { phase: string; done: number; total: number }) => void;
  onNotice?: (message: string) => void;
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

/** Which output the effect is measured on: logits for classifiers, else the pooled output, else CLS of the last hidden state. */
function outputChoice(names: string[]): { kind: 'classifier' | 'features'; name: string; clsOnly: boolean } {
  if (names.includes('logits')) return { kind: 'classifier', name: 'logits', clsOnly: false };
  for (const n of ['pooler_output', 'image_embeds']) if (names.includes(n)) return { kind: 'features', name: n, clsOnly: false };
  if (names.includes('last_hidden_state')) return { kind: 'features', name: 'last_hidden_state', clsOnly: true };
  throw new MassivitError('BAD_MODEL', `No output to compare: expected logits, pooler_output or last_hidden_state, found ${names.join(', ')}`);
}

interface Target {
  layer: number;
  atSource: InterveneJson['at']['source'];
  cells: CellRef[];
  cellsSource: InterveneJson['cells']['source'];
  scanDir: string | null;
}

async function resolveTarget(spec: ModelSpec, opts: InterveneOptions, outDir: string): Promise<Target> {
  const at = opts.at ?? 'auto';
  if (opts.cells && typeof at === 'number') return { layer: at, atSource: 'explicit', cells: opts.cells, cellsSource: 'explicit', scanDir: null };
  let scanDir = opts.scan ? resolve(opts.scan) : undefined;
  if (!scanDir) {
    scanDir = join(outDir, 'scan');
    opts.onNotice?.(`no --scan given: scanning ${opts.images} into ${scanDir} to find the cells`);
    await scan({ model: spec, images: opts.images, out: scanDir, batch: opts.batch, device: opts.device, threads: opts.threads, limit: opts.limit, maxPixels: opts.maxPixels, view: false });
  }
  const summary = readScanJson(scanDir);
  let layer: number;
  let atSource: Target['atSource'] = 'explicit';
  if (typeof at === 'number') layer = at;
  else if (summary.emergence.firstLayer !== null) [layer, atSource] = [summary.emergence.firstLayer, 'emergence'];
  else if (summary.nearMissEmergence.firstLayer !== null) [layer, atSource] = [summary.nearMissEmergence.firstLayer, 'near-miss emergence'];
  else throw new MassivitError('BAD_OPTION', `--at auto: the scan in ${scanDir} found no massive activations or near-misses`, 'Pass --at <layer> and --cells token:dim,...');
  if (opts.cells) return { layer, atSource, cells: opts.cells, cellsSource: 'explicit', scanDir };
  const db = openStoreReadOnly(scanDir);
  if (!db) throw new MassivitError('BAD_OPTION', `--scan ${scanDir} holds no ${STORE_FILE}`, 'Pass the --out folder of a massivit scan');
  let found: ReturnType<typeof scanCells>;
  try {
    found = scanCells(db, layer);
  } finally {
    db.close();
  }
  if (!found) throw new MassivitError('BAD_OPTION', `The scan in ${scanDir} found no massive or near-miss cells at layer ${layer}`, 'Pass --cells token:dim,... or another --at');
  return { layer, atSource, cells: found.cells, cellsSource: found.kind === 'massive' ? 'scan: massive' : 'scan: near-miss', scanDir };
}

function vectors(t: ort.Tensor, clsOnly: boolean): Float32Array[] {
  const dims = t.dims.map(Number);
  const per = dims.slice(1).reduce((a, d) => a * d, 1);
  const width = clsOnly ? dims[2] : per;
  return Array.from({ length: dims[0] }, (_, i) => Float32Array.from((t.data as Float32Array).subarray(i * per, i * per + width)));
}

/** Class labels from the first path segment, when every image sits in a sub-folder and there are ≥ 2 of them. */
function classLabels(rels: string[]): string[] | null {
  if (rels.length === 0 || rels.some((r) => !r.includes('/'))) return null;
  const labels = rels.map((r) => r.split('/')[0]);
  return new Set(labels).size >= 2 ? labels : null;
}

/** Runs the interventions and writes <out>/intervene.json (atomically). */
export async function intervene(opts: InterveneOptions): Promise<{ report: InterveneJson; outDir: string; path: string }> {
  const modes = opts.modes ?? [...INTERVENTION_MODES];
  for (const m of modes) if (!INTERVENTION_MODES.includes(m)) throw invalidOption('--mode', `one of ${INTERVENTION_MODES.join(', ')}`, m);
  const batch = opts.batch ?? 8;
  const maxPixels = opts.maxPixels ?? DEFAULT_LIMITS.maxPixels;
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(batch) || batch < 1) throw invalidOption('--batch', 'a positive integer', batch);
  if (!Number.isInteger(seed)) throw invalidOption('--seed', 'an integer', seed);
  checkRanges({ batch, seed, threads: opts.threads, limit: opts.limit, maxPixels, at: opts.at === 'auto' ? undefined : opts.at });
  checkInputFolder('--images', opts.images);
  checkOutputFolder('--out', opts.out);
  const loaded = typeof opts.model === 'string' ? loadModel(opts.model) : opts.model;
  const outDir = resolve(opts.out);
  ensureOutputDir(outDir);
  const target = await resolveTarget(loaded, opts, outDir);
  // A bare .onnx has no config: its width, which shapes the edit's inputs, is measured by a probe pass first.
  const spec = loaded.arch.hiddenSize ? loaded : await measuredSpec(loaded);
  const T = spec.tokens.sequenceLength;
  const D = spec.arch.hiddenSize;
  for (const c of target.cells) {
    if (!(Number.isInteger(c.token) && c.token >= 0 && c.token < T && Number.isInteger(c.dim) && c.dim >= 0 && c.dim < D)) {
      throw invalidOption('--cells', `token in 0…${T - 1} and dim in 0…${D - 1}`, `${c.token}:${c.dim}`);
    }
  }
  const edit = cellsAt(target.layer, T, D);
  const choice = outputChoice(spec.outputNames);
  // The hook is exposed as computed (before the edit): the cells' dataset means come from the same pass.
  const runOpts: RunOptions = { device: opts.device ?? 'auto', threads: opts.threads ?? 0 };
  const runner = await openRunner(spec, { expose: [edit.hook], edits: [edit], keepOutputs: true }, runOpts);
  if (runner.open.notice) opts.onNotice?.(runner.open.notice);
  try {
    const report = await measure(spec, opts, target, edit.hook, choice, runner, modes, batch, maxPixels, seed);
    const path = join(outDir, INTERVENE_FILE);
    writeJsonAtomic(path, report);
    return { report, outDir, path };
  } finally {
    await runner.close();
  }
}

async function measuredSpec(spec: ModelSpec): Promise<ModelSpec> {
  const probe = await openRunner(spec, { expose: [layerHook(0)] }, { device: 'cpu', threads: 1 });
  await probe.close();
  return probe.spec;
}

async function measure(
  spec: ModelSpec,
  opts: InterveneOptions,
  target: Target,
  hook: string,
  choice: ReturnType<typeof outputChoice>,
  runner: Runner,
  modes: InterventionMode[],
  batch: number,
  maxPixels: number,
  seed: number,
): Promise<InterveneJson> {
  const T = spec.tokens.sequenceLength;
  const D = spec.arch.hiddenSize;
  const walked = await walkImages(resolve(opts.images));
  const entries = opts.limit !== undefined ? walked.entries.slice(0, opts.limit) : walked.entries;
  const images = () => decodedBatches(entries, { preprocess: spec.preprocess, maxPixels, hash: false }, batch);
  const run = async (pixels: Float32Array[], edit: CellsValues, outputs: string[]): Promise<Record<string, ort.Tensor>> => runner.run(pixels, { edits: [edit], outputs });
  const identity: CellsValues = { kind: 'cells', mask: new Float32Array(T * D).fill(1), fill: new Float32Array(T * D) };
  // Phase 1: original outputs and the dataset moments of every cell of the layer.
  const sum = new Float64Array(T * D);
  const sumAbs = new Float64Array(T * D);
  const original: Float32Array[] = [];
  const rels: string[] = [];
  const errors: { path: string; reason: string }[] = walked.errors.map((e) => ({ path: e.rel, reason: e.reason }));
  for await (const b of images()) {
    for (const f of b.failed) errors.push({ path: f.entry.rel, reason: f.error! });
    if (b.ok.length === 0) continue;
    const out = await run(b.ok.map((d) => d.pixels!), identity, [choice.name, hook]);
    const hidden = out[hook].data as Float32Array;
    for (let i = 0; i < hidden.length; i++) {
      sum[i % (T * D)] += hidden[i];
      sumAbs[i % (T * D)] += Math.abs(hidden[i]);
    }
    original.push(...vectors(out[choice.name], choice.clsOnly));
    rels.push(...b.ok.map((d) => d.entry.rel));
    opts.onProgress?.({ phase: 'original', done: rels.length, total: entries.length });
  }
  const n = rels.length;
  if (n === 0) throw new MassivitError('BAD_OPTION', `No usable image in ${opts.images}`);
  const describe = (flat: number): InterveneCell => {
    const token = Math.floor(flat / D);
    const position = patchPosition(spec.tokens, token);
    return { token, dim: flat % D, role: tokenRole(spec.tokens, token), ...(position ? { position } : {}), mean: sum[flat] / n, meanAbs: sumAbs[flat] / n };
  };
  const targets = [...new Set(target.cells.map((c) => c.token * D + c.dim))].sort((a, b) => a - b);
  const control = controlCells(Float64Array.from(sumAbs, (v) => v / n), new Set(targets), targets.length, seed);
  const edit = (cells: number[], mean: boolean): CellsValues => {
    const e: CellsValues = { kind: 'cells', mask: new Float32Array(T * D).fill(1), fill: new Float32Array(T * D) };
    for (const c of cells) {
      e.mask[c] = 0;
      if (mean) e.fill[c] = sum[c] / n;
    }
    return e;
  };
  const runs: { mode: InterveneResult['mode']; edit: CellsValues; cells: number }[] = [
    ...modes.map((m) => ({ mode: m, edit: edit(targets, m === 'mean'), cells: targets.length })),
    { mode: 'control-zero' as const, edit: edit(control, false), cells: control.length },
  ];
  // Phase 2: every edit on the same images, compared with the originals.
  const modified = runs.map(() => [] as Float32Array[]);
  let done = 0;
  for await (const b of images()) {
    if (b.ok.length === 0) continue;
    const pixels = b.ok.map((d) => d.pixels!);
    for (const [r, { edit: e }] of runs.entries()) modified[r].push(...vectors((await run(pixels, e, [choice.name]))[choice.name], choice.clsOnly));
    done += b.ok.length;
    opts.onProgress?.({ phase: 'interventions', done, total: n });
  }
  if (modified[0].length !== n) throw new MassivitError('INTERNAL', 'The image folder changed during the intervention run');
  const labels = classLabels(rels);
  const classifier = choice.kind === 'classifier';
  const results = runs.map((r, i): InterveneResult => {
    const mod = modified[i];
    const cos = mod.map((v, j) => cosine(original[j], v));
    const kls = classifier ? mod.map((v, j) => klDivergence(original[j], v)) : [];
    return {
      mode: r.mode,
      cells: r.cells,
      top1Agreement: classifier ? mod.filter((v, j) => argmax(v) === argmax(original[j])).length / n : null,
      meanKL: classifier ? kls.reduce((s, x) => s + x, 0) / n : null,
      maxKL: classifier ? Math.max(...kls) : null,
      cosine: { mean: cos.reduce((s, x) => s + x, 0) / n, min: Math.min(...cos) },
      knnAccuracy: labels ? knnAccuracy(mod, labels, KNN_K) : null,
    };
  });
  return {
    version: 1,
    tool: { name: 'massivit', version: VERSION },
    model: { name: spec.name, family: spec.arch.family, sha256: spec.sha256, kind: choice.kind, output: choice.clsOnly ? `${choice.name}[CLS]` : choice.name, ...(spec.arch.synthetic ? { synthetic: true } : {}) },
    layer: target.layer,
    hook,
    at: { requested: opts.at ?? 'auto', source: target.atSource },
    cells: { source: target.cellsSource, scan: target.scanDir, list: targets.map(describe) },
    control: { seed, rule: CONTROL_RULE, list: control.map(describe) },
    images: { used: n, failed: errors.length, errors },
    classes: labels ? [...new Set(labels)].sort() : null,
    knn: labels ? { k: KNN_K, metric: 'cosine', baseline: knnAccuracy(original, labels, KNN_K) } : null,
    results,
  };
}
