/**
 * The runs of `massivit intervene`. Phase 1 runs the rewritten graph with identity edits (the unmodified
 * model) to record the original outputs, the dataset moments of every cell of each edited layer and, for
 * shuffle, each image's values of the target cells. Phase 2 runs every mode and the control on the same
 * images. zero, mean and the control write the same values into every image, so they run in batches;
 * noise and shuffle write per-image values into the [1, T, D] fill, so they run one image at a time.
 */
import { resolve } from 'node:path';
import { CONTROL_RULE, controlCells, derangement, knnAccuracy, moments, outputEffect, seededNormal } from '../analyze/effects.js';
import { MassivitError } from '../contracts/errors.js';
import type { ImageError } from '../contracts/rows.js';
import { walkImages } from '../images/walk.js';
import { patchPosition, tokenRole } from '../model/layout.js';
import type { ModelSpec } from '../model/load.js';
import type { Runner } from '../run/runner.js';
import type { Device, ort } from '../run/session.js';
import { decodedBatches } from '../run/stream.js';
import type { CellsValues } from '../tap/edits.js';
import { VERSION } from '../contracts/version.js';
import type { CellRef, InterveneCell, InterveneJson, InterveneResult, InterventionMode, InterventionTarget } from '../outputs/intervene-json.js';

const KNN_K = 5;

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

/** What one intervention edits (pipelines/intervene.ts resolves it). */
export interface Target {
  target: InterventionTarget;
  layers: number[];
  atSource: InterveneJson['at']['source'];
  cells: CellRef[];
  tokens?: number[];
  cellsSource: InterveneJson['cells']['source'];
  scanDir: string | null;
}

const NOISE_RULE = 'each cell drawn per image from a normal with the cell’s dataset mean and standard deviation (seed + 1)';
const SHUFFLE_RULE = 'each image takes the cells’ values of another image of the set, by a seeded random derangement (a cycle through all images; seed + 2)';

/** Which output the effect is measured on: logits for classifiers, else the pooled output, else CLS of the last hidden state. */
export function outputChoice(names: string[]): { kind: 'classifier' | 'features'; name: string; clsOnly: boolean } {
  if (names.includes('logits')) return { kind: 'classifier', name: 'logits', clsOnly: false };
  for (const n of ['pooler_output', 'image_embeds']) if (names.includes(n)) return { kind: 'features', name: n, clsOnly: false };
  if (names.includes('last_hidden_state')) return { kind: 'features', name: 'last_hidden_state', clsOnly: true };
  throw new MassivitError('BAD_MODEL', `No output to compare: expected logits, pooler_output or last_hidden_state, found ${names.join(', ')}`);
}

export function vectors(t: ort.Tensor, clsOnly: boolean): Float32Array[] {
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

interface MeasureArgs {
  spec: ModelSpec;
  opts: InterveneOptions;
  target: Target;
  /** The hook of each edited layer (target.layers order). */
  hooks: string[];
  choice: ReturnType<typeof outputChoice>;
  runner: Runner;
  modes: InterventionMode[];
  batch: number;
  maxPixels: number;
  seed: number;
}

/** Dataset sums of every cell of one edited layer. */
interface LayerSums {
  sum: Float64Array;
  sumSq: Float64Array;
  sumAbs: Float64Array;
}

/** One run of phase 2: fixed values (batched), or values that depend on the image (one at a time). */
interface Plan {
  mode: InterveneResult['mode'];
  cells: number;
  seed?: number;
  fixed?: CellsValues[];
  perImage?: (image: number) => CellsValues[];
}

export async function measure(a: MeasureArgs): Promise<InterveneJson> {
  const { spec, opts, target, hooks, choice, runner, batch, maxPixels, seed } = a;
  const T = spec.tokens.sequenceLength;
  const D = spec.arch.hiddenSize;
  const walked = await walkImages(resolve(opts.images));
  const entries = opts.limit !== undefined ? walked.entries.slice(0, opts.limit) : walked.entries;
  const images = () => decodedBatches(entries, { preprocess: spec.preprocess, maxPixels, hash: false }, batch);
  const targets = [...new Set(target.cells.map((c) => c.token * D + c.dim))].sort((x, y) => x - y);
  const identity = (): CellsValues => ({ kind: 'cells', mask: new Float32Array(T * D).fill(1), fill: new Float32Array(T * D) });
  const identities = hooks.map(identity);
  // Phase 1: original outputs, the dataset moments of every cell, each image's target values (for shuffle).
  const sums: LayerSums[] = hooks.map(() => ({ sum: new Float64Array(T * D), sumSq: new Float64Array(T * D), sumAbs: new Float64Array(T * D) }));
  const own: Float32Array[] = []; // per image: targets × layers
  const original: Float32Array[] = [];
  const rels: string[] = [];
  const errors: ImageError[] = [...walked.errors];
  const keepOwn = a.modes.includes('shuffle');
  for await (const b of images()) {
    for (const f of b.failed) errors.push({ path: f.entry.path, reason: f.reason });
    if (b.ok.length === 0) continue;
    const out = await runner.run(b.ok.map((d) => d.pixels!), { edits: identities, outputs: [choice.name, ...hooks] });
    const values = b.ok.map(() => new Float32Array(keepOwn ? targets.length * hooks.length : 0));
    hooks.forEach((hook, l) => {
      const hidden = out[hook].data as Float32Array;
      const { sum, sumSq, sumAbs } = sums[l];
      for (let i = 0; i < hidden.length; i++) {
        const v = hidden[i];
        const c = i % (T * D);
        sum[c] += v;
        sumSq[c] += v * v;
        sumAbs[c] += Math.abs(v);
      }
      if (keepOwn) values.forEach((row, img) => targets.forEach((c, k) => (row[l * targets.length + k] = hidden[img * T * D + c])));
    });
    own.push(...values);
    original.push(...vectors(out[choice.name], choice.clsOnly));
    rels.push(...b.ok.map((d) => d.entry.path));
    opts.onProgress?.({ phase: 'original', done: rels.length, total: entries.length });
  }
  const n = rels.length;
  if (n === 0) throw new MassivitError('BAD_OPTION', `No usable image in ${opts.images}`);
  const describe = (flat: number, l: number): InterveneCell => {
    const token = Math.floor(flat / D);
    const position = patchPosition(spec.tokens, token);
    const { mean, sd } = moments(sums[l].sum[flat], sums[l].sumSq[flat], n);
    return { token, dim: flat % D, role: tokenRole(spec.tokens, token), ...(position ? { position } : {}), mean, meanAbs: sums[l].sumAbs[flat] / n, sd };
  };
  const exclude = new Set(targets);
  // The control at the k-th edited layer is drawn with seed + k, so a single-layer run keeps today's cells.
  const control = sums.map((s, k) => controlCells(Float64Array.from(s.sumAbs, (v) => v / n), exclude, targets.length, seed + k));
  /** Masks the cells of every layer; `fill(l, k)` gives the value of the k-th cell at the l-th layer. */
  const edits = (cells: number[][], fill: (l: number, k: number, flat: number) => number, into?: CellsValues[]): CellsValues[] =>
    cells.map((list, l) => {
      const e = into?.[l] ?? identity();
      list.forEach((c, k) => {
        e.mask[c] = 0;
        e.fill[c] = fill(l, k, c);
      });
      return e;
    });
  const perLayer = hooks.map(() => targets);
  const plans: Plan[] = [];
  const count = targets.length * hooks.length;
  for (const mode of a.modes) {
    if (mode === 'zero') plans.push({ mode, cells: count, fixed: edits(perLayer, () => 0) });
    if (mode === 'mean') plans.push({ mode, cells: count, fixed: edits(perLayer, (l, _k, c) => sums[l].sum[c] / n) });
    if (mode === 'noise') {
      const normal = seededNormal(seed + 1);
      const stats = hooks.map((_, l) => targets.map((c) => moments(sums[l].sum[c], sums[l].sumSq[c], n)));
      const buffers = hooks.map(identity);
      // Draws in image order, then layer, then cell: the same seed gives the same values.
      plans.push({ mode, cells: count, seed: seed + 1, perImage: () => edits(perLayer, (l, k) => stats[l][k].mean + stats[l][k].sd * normal(), buffers) });
    }
    if (mode === 'shuffle') {
      if (n < 2) {
        opts.onNotice?.('shuffle needs at least 2 images: skipped');
        continue;
      }
      const donor = derangement(n, seed + 2);
      const buffers = hooks.map(identity);
      plans.push({ mode, cells: count, seed: seed + 2, perImage: (i) => edits(perLayer, (l, k) => own[donor[i]][l * targets.length + k], buffers) });
    }
  }
  plans.push({ mode: 'control-zero', cells: control.reduce((s, c) => s + c.length, 0), fixed: edits(control, () => 0) });
  // Phase 2: every edit on the same images, compared with the originals.
  const modified = plans.map(() => [] as Float32Array[]);
  let done = 0;
  for await (const b of images()) {
    if (b.ok.length === 0) continue;
    const pixels = b.ok.map((d) => d.pixels!);
    for (const [r, p] of plans.entries()) {
      if (p.fixed) modified[r].push(...vectors((await runner.run(pixels, { edits: p.fixed, outputs: [choice.name] }))[choice.name], choice.clsOnly));
      else for (const [j, px] of pixels.entries()) modified[r].push(...vectors((await runner.run([px], { edits: p.perImage!(done + j), outputs: [choice.name] }))[choice.name], choice.clsOnly));
    }
    done += b.ok.length;
    opts.onProgress?.({ phase: 'interventions', done, total: n });
  }
  if (modified[0].length !== n) throw new MassivitError('INTERNAL', 'The image folder changed during the intervention run');
  const labels = classLabels(rels);
  const results = plans.map((p, i) => effect(p, modified[i], original, choice.kind === 'classifier', labels));
  const ran = new Set(plans.map((p) => p.mode));
  const rules = { ...(ran.has('noise') ? { noise: NOISE_RULE } : {}), ...(ran.has('shuffle') ? { shuffle: SHUFFLE_RULE } : {}) };
  return {
    version: 1,
    tool: { name: 'massivit', version: VERSION },
    model: { name: spec.name, family: spec.arch.family, sha256: spec.sha256, kind: choice.kind, output: choice.clsOnly ? `${choice.name}[CLS]` : choice.name, ...(spec.arch.synthetic ? { synthetic: true } : {}) },
    target: target.target,
    layer: target.layers[0],
    hook: hooks[0],
    layers: target.layers,
    at: { requested: opts.at ?? 'auto', source: target.atSource },
    cells: { source: target.cellsSource, scan: target.scanDir, list: targets.map((c) => describe(c, 0)), ...(target.tokens ? { tokens: target.tokens } : {}) },
    control: { seed, rule: hooks.length > 1 ? `${CONTROL_RULE}; as many at each edited layer (seed + k at the k-th; the list shows the first layer)` : CONTROL_RULE, list: control[0].map((c) => describe(c, 0)) },
    images: { used: n, failed: errors.length, errors },
    classes: labels ? [...new Set(labels)].sort() : null,
    knn: labels ? { k: KNN_K, metric: 'cosine', baseline: knnAccuracy(original, labels, KNN_K) } : null,
    results,
    ...(Object.keys(rules).length > 0 ? { rules } : {}),
  };
}

/** The effect measures of one run against the original outputs. */
function effect(p: Plan, mod: Float32Array[], original: Float32Array[], classifier: boolean, labels: string[] | null): InterveneResult {
  return {
    mode: p.mode,
    cells: p.cells,
    ...outputEffect(original, mod, classifier),
    knnAccuracy: labels ? knnAccuracy(mod, labels, KNN_K) : null,
    ...(p.seed !== undefined ? { seed: p.seed } : {}),
  };
}
