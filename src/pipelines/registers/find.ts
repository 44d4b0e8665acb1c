/**
 * `registers find`: two passes of the runner over the images. Pass 1 exposes every block output and
 * measures the patch tokens' norms → the detection layer and its outliers (analyze/registers/outliers.ts). Pass 2
 * exposes hook_post of the blocks up to the detection layer and scores each neuron at the outliers against
 * elsewhere (analyze/registers/scores.ts); the ranked neurons are cut by the selection rule (analyze/registers/select.ts).
 */
import { invalidOption } from '../../contracts/errors.js';
import { layerHook, mlpPost, type HookName } from '../../contracts/hooks.js';
import type { ModelSpec } from '../../model/load.js';
import { openRunner, type Runner } from '../../run/runner.js';
import type { RunOptions } from '../../run/session.js';
import { VERSION } from '../../contracts/version.js';
import { forEachBatch, type ImageSet } from './images.js';
import { NEURONS_FILE_KIND, type NeuronsFile } from '../../outputs/register-neurons.js';
import { detectOutliers, type Detection, type PatchNorms } from '../../analyze/registers/outliers.js';
import { ScoreAccumulator, type NeuronScore } from '../../analyze/registers/scores.js';
import { selectNeurons, type Selection } from '../../analyze/registers/select.js';

export interface FindOptions {
  /** Detection layer (block output 1 … N); default: the largest max/median patch-norm ratio. */
  layer?: number;
  threshold?: number;
  minRatio?: number;
  /** A fixed number of neurons; default: the mass rule of select.ts. */
  top?: number;
  /** Sparsity filter: keep neurons with mean |a| at the outliers ≥ this × elsewhere (select.ts). */
  minNeuronRatio?: number;
  batch?: number;
  run: RunOptions;
}

export interface FindResult {
  file: NeuronsFile;
  detection: Detection;
  ranked: NeuronScore[];
  /** Mean |a| per patch of each chosen neuron (same order as file.neurons). */
  grids: number[][];
}

async function withRunner<T>(spec: ModelSpec, expose: HookName[], run: RunOptions, body: (r: Runner) => Promise<T>): Promise<T> {
  const runner = await openRunner(spec, { expose }, run);
  try {
    return await body(runner);
  } finally {
    await runner.close();
  }
}

function tensorData(t: { data: unknown }): Float32Array {
  return t.data as Float32Array;
}

async function patchNorms(spec: ModelSpec, set: ImageSet, batch: number, run: RunOptions): Promise<PatchNorms> {
  const N = spec.arch.numLayers;
  const { patchStart, sequenceLength: T } = spec.tokens;
  const P = T - patchStart;
  const hooks = Array.from({ length: N }, (_, i) => layerHook(i + 1));
  const chunks: Float32Array[][] = hooks.map(() => []);
  const images = await withRunner(spec, hooks, run, (r) =>
    forEachBatch(set, spec.preprocess, batch, true, async (pixels) => {
      const out = await r.run(pixels);
      hooks.forEach((h, l) => {
        const x = tensorData(out[h]);
        const D = Number(out[h].dims[2]);
        const norms = new Float32Array(pixels.length * P);
        for (let i = 0; i < pixels.length; i++) {
          for (let p = 0; p < P; p++) {
            let s = 0;
            const row = (i * T + patchStart + p) * D;
            for (let d = 0; d < D; d++) s += x[row + d] * x[row + d];
            norms[i * P + p] = Math.sqrt(s);
          }
        }
        chunks[l].push(norms);
      });
    }),
  );
  const byLayer = chunks.map((parts) => {
    const all = new Float32Array(images * P);
    let at = 0;
    for (const part of parts) all.set(part, (at += part.length) - part.length);
    return all;
  });
  return { byLayer, images, patches: P };
}

export async function findRegisterNeurons(spec: ModelSpec, set: ImageSet, opts: FindOptions): Promise<FindResult> {
  const N = spec.arch.numLayers;
  if (opts.layer !== undefined && !(Number.isInteger(opts.layer) && opts.layer >= 1 && opts.layer <= N)) {
    throw invalidOption('--layer', `a block output 1 … ${N}`, opts.layer);
  }
  const batch = opts.batch ?? 8;
  const norms = await patchNorms(spec, set, batch, opts.run);
  const detection = detectOutliers(norms, opts);
  const { patchStart, sequenceLength: T } = spec.tokens;
  // The neurons that can write the outliers of layer L sit in blocks 0 … L-1 (block b writes hidden_states[b+1]).
  const blocks = Array.from({ length: detection.layer }, (_, b) => mlpPost(b));
  let acc: ScoreAccumulator | undefined;
  if (detection.count > 0) {
    await withRunner(spec, blocks, opts.run, async (r) => {
      let first = 0;
      await forEachBatch(set, spec.preprocess, batch, false, async (pixels) => {
        const out = await r.run(pixels, { outputs: blocks });
        const acts = blocks.map((h) => tensorData(out[h]));
        acc ??= new ScoreAccumulator(blocks.length, Number(out[blocks[0]].dims[2]), norms.patches);
        acc.add(acts, pixels.length, T, patchStart, detection.outlier, first);
        first += pixels.length;
      });
    });
  }
  const ranked = acc?.ranked() ?? [];
  const selection: Selection = selectNeurons(ranked, opts);
  const chosen = selection.chosen;
  const cols = spec.tokens.patchGrid[1];
  const file: NeuronsFile = {
    kind: NEURONS_FILE_KIND,
    version: 1,
    tool: { name: 'massivit', version: VERSION },
    model: { name: spec.name, family: spec.arch.family, sha256: spec.sha256, numBlocks: N },
    images: { dir: set.dir, used: norms.images, failed: set.errors.length },
    detection: {
      layer: detection.layer,
      layerSource: detection.layerSource,
      threshold: detection.threshold,
      thresholdSource: detection.thresholdSource,
      minRatio: detection.minRatio,
      outliers: detection.count,
      patchesPerImage: norms.patches,
      byPatch: detection.byPatch.flatMap((count, p) => (count > 0 ? [{ patch: p, position: [Math.floor(p / cols), p % cols] as [number, number], count }] : [])),
      layers: detection.stats,
    },
    selection: { rule: selection.rule, requested: opts.top ?? 'auto', k: selection.k, massShare: selection.massShare, candidates: selection.candidates },
    neurons: chosen.map((s) => ({ block: s.block, index: s.neuron, sign: s.sign, atOutliers: s.atOutliers, elsewhere: s.elsewhere, ratio: s.ratio })),
  };
  return { file, detection, ranked, grids: chosen.map((s) => acc!.grid(s.block, s.neuron)) };
}
