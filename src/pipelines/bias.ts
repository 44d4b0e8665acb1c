/**
 * bias: the training-free test of Sun et al.'s claim that massive activations act as an attention bias.
 * Every attention block from the emergence layer on gets one constant extra key/value slot (k′, v′): the
 * mean key and value of the sink tokens (those holding the massive cells) over the images, in the
 * unmodified model. Then the massive activations are removed (the massive cells zeroed at the emergence
 * layer, or, when the sinks are registers, the whole register tokens). Compared with the unmodified model
 * next to plain zeroing and mean substitution. One session runs every variant: the edits' values are
 * fed per run (tap/attention-bias.ts), and the slot has no weight where a variant has no bias.
 */
import { join, resolve } from 'node:path';
import { ensureOutputDir } from '../contracts/atomic.js';
import { DEFAULT_CRITERIA } from '../contracts/criteria.js';
import { BIAS_FILE } from '../contracts/files.js';
import { BIAS_JSON_VERSION, type BiasJson } from '../outputs/bias-json.js';
import { effect, noSlots, Shares, SinkSums, type BiasResult, type BiasVariant } from '../analyze/bias.js';
import { MassivitError, invalidOption } from '../contracts/errors.js';
import { attnPattern } from '../contracts/hooks.js';
import { DEFAULT_LIMITS } from '../images/model-view.js';
import { walkImages } from '../images/walk.js';
import { checkRanges } from './checks.js';
import { checkInputFolder, checkOutputFolder } from './paths.js';
import { tokenRole } from '../model/layout.js';
import { loadModel, type ModelSpec } from '../model/load.js';
import { emergenceLayer, massiveCells, measuredSpec, scanOf } from './intervene.js';
import { outputChoice, vectors } from './intervene-run.js';
import { openRunner } from '../run/runner.js';
import type { Device } from '../run/session.js';
import { decodedBatches } from '../run/stream.js';
import { writeJsonAtomic } from './scan.js';
import { attentionBiasAt, cellsAt, type CellsValues, type EditValues } from '../tap/edits.js';
import { VERSION } from '../contracts/version.js';

export interface BiasOptions {
  model: string | ModelSpec;
  images: string;
  out: string;
  /** hidden_states index of the removal, or 'auto' = the scan's emergence layer. */
  at?: number | 'auto';
  /** A scan folder to take the emergence layer and massive cells from (else one is run into <out>/scan). */
  scan?: string;
  batch?: number;
  device?: Device;
  threads?: number;
  limit?: number;
  maxPixels?: number;
  onNotice?: (message: string) => void;
  onProgress?: (p: { phase: string; done: number; total: number }) => void;
}

interface Sinks {
  layer: number;
  atSource: BiasJson['at']['source'];
  scanDir: string;
  cells: { token: number; dim: number }[];
  tokens: number[];
  removal: BiasJson['sinks']['removal'];
  /** Flat cells (token · D + dim) that zero / mean / bias + zero rewrite at `layer`. */
  removed: number[];
}

async function findSinks(spec: ModelSpec, opts: BiasOptions, outDir: string): Promise<Sinks> {
  const { scanDir, summary } = await scanOf(spec, opts, outDir, 'the massive activations');
  const chosen = typeof opts.at === 'number' ? { layer: opts.at, atSource: 'explicit' as const } : emergenceLayer(summary);
  if (!chosen) throw new MassivitError('BAD_OPTION', `The scan in ${scanDir} found no massive activations or near-misses: there is nothing to replace by a bias`, 'Pass --at <layer>');
  const { layer, atSource } = chosen;
  if (layer >= spec.arch.numLayers) throw invalidOption('--at', `a layer in 0…${spec.arch.numLayers - 1} (a block must follow it)`, layer);
  const { cells } = massiveCells(scanDir, layer);
  const tokens = [...new Set(cells.map((c) => c.token))].sort((a, b) => a - b);
  const D = spec.arch.hiddenSize;
  // A register sink is removed whole ("zero the register"); a patch or CLS sink loses only its massive cells.
  const registers = tokens.every((t) => tokenRole(spec.tokens, t) === 'register');
  const removed = registers ? tokens.flatMap((t) => Array.from({ length: D }, (_, d) => t * D + d)) : cells.map((c) => c.token * D + c.dim);
  return { layer, atSource, scanDir, cells, tokens, removal: registers ? 'register tokens' : 'massive cells', removed: [...new Set(removed)].sort((a, b) => a - b) };
}

/** Runs the variants and writes <out>/bias.json (atomically). */
export async function bias(opts: BiasOptions): Promise<{ report: BiasJson; outDir: string; path: string }> {
  const batch = opts.batch ?? 8;
  const maxPixels = opts.maxPixels ?? DEFAULT_LIMITS.maxPixels;
  checkRanges({ batch, threads: opts.threads, limit: opts.limit, maxPixels, at: opts.at === 'auto' ? undefined : opts.at });
  checkInputFolder('--images', opts.images);
  checkOutputFolder('--out', opts.out);
  const loaded = typeof opts.model === 'string' ? loadModel(opts.model) : opts.model;
  const outDir = resolve(opts.out);
  ensureOutputDir(outDir);
  const spec = loaded.arch.hiddenSize ? loaded : await measuredSpec(loaded);
  const sinks = await findSinks(spec, opts, outDir);
  const report = await measureBias(spec, opts, sinks, batch, maxPixels);
  const path = join(outDir, BIAS_FILE);
  writeJsonAtomic(path, report);
  return { report, outDir, path };
}

async function measureBias(spec: ModelSpec, opts: BiasOptions, sinks: Sinks, batch: number, maxPixels: number): Promise<BiasJson> {
  const T = spec.tokens.sequenceLength;
  const D = spec.arch.hiddenSize;
  const H = spec.arch.numHeads;
  const d = D / H;
  const blocks = Array.from({ length: spec.arch.numLayers - sinks.layer }, (_, i) => sinks.layer + i);
  const cells = cellsAt(sinks.layer, T, D);
  const S = sinks.tokens.length;
  // One slot per sink: the single-slot variants use the first and leave the others without weight.
  const edits = [cells, ...blocks.map((b) => attentionBiasAt(b, H, d, T, S))];
  const choice = outputChoice(spec.outputNames);
  const runner = await openRunner(
    spec,
    { expose: [cells.hook], edits, keepOutputs: true, reduce: { layers: [], attention: true, numHeads: H, topK: 1, criteria: DEFAULT_CRITERIA } },
    { device: opts.device ?? 'auto', threads: opts.threads ?? 0 },
  );
  if (runner.open.notice) opts.onNotice?.(runner.open.notice);
  try {
    const walked = await walkImages(resolve(opts.images));
    const entries = opts.limit !== undefined ? walked.entries.slice(0, opts.limit) : walked.entries;
    const images = () => decodedBatches(entries, { preprocess: spec.preprocess, maxPixels, hash: false }, batch);
    const mass = blocks.map((b) => `${attnPattern(b)}.key_mass`);
    const kv = blocks.flatMap((b) => [`blocks.${b}.attn.keys`, `blocks.${b}.attn.values`]);
    const noCells: CellsValues = { kind: 'cells', mask: new Float32Array(T * D).fill(1), fill: new Float32Array(T * D) };
    const noBias = noSlots(H, d, S);
    // Phase 1: the unmodified model; sums of the removed cells and of the sinks' keys and values.
    const cellSum = new Float64Array(T * D);
    const sums = new SinkSums(blocks.length, H, d, T, sinks.tokens);
    const original: Float32Array[] = [];
    const originalShares = new Shares(blocks.length, sinks.tokens, T);
    const errors = [...walked.errors];
    for await (const b of images()) {
      for (const f of b.failed) errors.push({ path: f.entry.path, reason: f.reason });
      if (b.ok.length === 0) continue;
      const out = await runner.run(b.ok.map((p) => p.pixels!), { edits: [noCells, ...blocks.map(() => noBias)], outputs: [choice.name, cells.hook, ...mass, ...kv] });
      const hidden = out[cells.hook].data as Float32Array;
      for (let i = 0; i < hidden.length; i++) cellSum[i % (T * D)] += hidden[i];
      blocks.forEach((blk, k) => sums.add(k, out[`blocks.${blk}.attn.keys`].data as Float32Array, out[`blocks.${blk}.attn.values`].data as Float32Array, b.ok.length));
      originalShares.add(mass.map((m) => out[m]));
      original.push(...vectors(out[choice.name], choice.clsOnly));
      opts.onProgress?.({ phase: 'original', done: original.length, total: entries.length });
    }
    const n = original.length;
    if (n === 0) throw new MassivitError('BAD_OPTION', `No usable image in ${opts.images}`);
    const logit = Math.log(S);
    const slots = blocks.map((_, k) => sums.slots(k, true));
    const perSink = blocks.map((_, k) => sums.slots(k, false));
    const removal = (fill: (c: number) => number): CellsValues => {
      const e: CellsValues = { kind: 'cells', mask: new Float32Array(T * D).fill(1), fill: new Float32Array(T * D) };
      for (const c of sinks.removed) [e.mask[c], e.fill[c]] = [0, fill(c)];
      return e;
    };
    const zero = removal(() => 0);
    const variants: [BiasVariant, EditValues[]][] = [
      ['zero', [zero, ...blocks.map(() => noBias)]],
      ['mean', [removal((c) => cellSum[c] / n), ...blocks.map(() => noBias)]],
      ['bias + zero', [zero, ...slots]],
      // With one sink the per-sink slot is the single slot: not run twice.
      ...(S > 1 ? [['per-sink bias + zero', [zero, ...perSink]] as [BiasVariant, EditValues[]]] : []),
      ['bias only', [noCells, ...slots]],
    ];
    // Phase 2: every variant on the same images.
    const modified = variants.map(() => [] as Float32Array[]);
    const shares = variants.map(() => new Shares(blocks.length, sinks.tokens, T));
    let done = 0;
    for await (const b of images()) {
      if (b.ok.length === 0) continue;
      const pixels = b.ok.map((p) => p.pixels!);
      for (const [v, [, values]] of variants.entries()) {
        const out = await runner.run(pixels, { edits: values, outputs: [choice.name, ...mass] });
        modified[v].push(...vectors(out[choice.name], choice.clsOnly));
        shares[v].add(mass.map((m) => out[m]));
      }
      done += b.ok.length;
      opts.onProgress?.({ phase: 'variants', done, total: n });
    }
    if (modified[0].length !== n) throw new MassivitError('INTERNAL', 'The image folder changed during the bias run');
    const classifier = choice.kind === 'classifier';
    const results: BiasResult[] = [
      effect('original', original, original, classifier, originalShares, blocks),
      ...variants.map(([name], v) => effect(name, modified[v], original, classifier, shares[v], blocks)),
    ];
    const damage = (r: BiasResult) => (classifier ? r.meanKL! : 1 - r.cosine.mean);
    const [z, bz] = [results.find((r) => r.variant === 'zero')!, results.find((r) => r.variant === 'bias + zero')!];
    const norm = (a: Float32Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0));
    return {
      version: BIAS_JSON_VERSION,
      tool: { name: 'massivit', version: VERSION },
      model: { name: spec.name, family: spec.arch.family, sha256: spec.sha256, kind: choice.kind, output: choice.clsOnly ? `${choice.name}[CLS]` : choice.name, ...(spec.arch.synthetic ? { synthetic: true } : {}) },
      layer: sinks.layer,
      at: { requested: opts.at ?? 'auto', source: sinks.atSource },
      scan: sinks.scanDir,
      sinks: { tokens: sinks.tokens, cells: sinks.cells.map((c) => ({ ...c, mean: cellSum[c.token * D + c.dim] / n })), removal: sinks.removal, removed: sinks.removed.length },
      blocks,
      slot: { logit, norms: blocks.map((block, k) => ({ block, key: norm(slots[k].key), value: norm(slots[k].value) })) },
      images: { used: n, failed: errors.length, errors },
      results,
      recovered: damage(z) > 0 ? 1 - damage(bz) / damage(z) : null,
    };
  } finally {
    await runner.close();
  }
}
