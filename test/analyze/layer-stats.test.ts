/**
 * The scan's layer statistics come from a WebAssembly SIMD kernel (src/analyze/layer-stats-wasm.ts). They
 * must be exactly what the definitions say — lower median of |a| as torch.median, top-k by |a| with ties to
 * the lower index, counts of |a| above float32 thresholds — so here the kernel is checked against a plain
 * sort-based computation, the JS histogram implementation, and ONNX Runtime's in-graph reductions
 * (tap/reduce.ts) on a real model's hidden states.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CRITERIA } from '../../src/contracts/criteria.js';
import { layerStats, StatsScratch, type LayerStats, type StatsCriteria } from '../../src/analyze/layer-stats.js';
import { DEFAULT_BRACKET, LayerStatsKernel, type MedianBracket } from '../../src/analyze/layer-stats-wasm.js';
import { layerHook } from '../../src/contracts/hooks.js';
import { loadModel } from '../../src/model/load.js';
import { openRunner } from '../../src/run/runner.js';
import { fixtureModel } from '../helpers/env.js';

/** The definitions, by sorting: what the kernel must reproduce. */
function naive(x: Float32Array, tokens: number, dims: number, topK: number, c: StatsCriteria): LayerStats {
  const abs = Array.from(x, Math.abs);
  const sorted = [...abs].sort((a, b) => a - b);
  const median = sorted[(abs.length - 1) >> 1];
  const order = abs.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, Math.min(topK, abs.length));
  const massive = Math.max(Math.fround(median * Math.fround(c.ratioThreshold)), Math.fround(c.absThreshold));
  const outlier = Math.fround(median * Math.fround(c.outlierRatio));
  const dimMassive = new Int32Array(dims);
  const dimOutlier = new Int32Array(dims);
  abs.forEach((v, i) => {
    if (v > massive) dimMassive[i % dims]++;
    if (v > outlier) dimOutlier[i % dims]++;
  });
  const norms = Float32Array.from({ length: tokens }, (_, t) => Math.hypot(...x.subarray(t * dims, (t + 1) * dims)));
  return { topValues: Float32Array.from(order, ([, i]) => x[i]), topIndices: Int32Array.from(order, ([, i]) => i), median, norms, dimMassive, dimOutlier };
}

function expectSame(actual: LayerStats, expected: LayerStats, label: string): void {
  expect(actual.median, `${label}: median`).toBe(expected.median);
  expect([...actual.topIndices], `${label}: top-k indices`).toEqual([...expected.topIndices]);
  expect([...actual.topValues], `${label}: top-k values`).toEqual([...expected.topValues]);
  expect([...actual.dimMassive], `${label}: massive counts`).toEqual([...expected.dimMassive]);
  expect([...actual.dimOutlier], `${label}: outlier counts`).toEqual([...expected.dimOutlier]);
  actual.norms.forEach((v, t) => expect(Math.abs(v - expected.norms[t]), `${label}: norm ${t}`).toBeLessThanOrEqual(1e-5 * Math.max(1, expected.norms[t])));
}

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const CASES: { name: string; tokens: number; dims: number; make: (r: () => number, i: number) => number }[] = [
  { name: 'a ViT-Ti-sized hidden state with spikes', tokens: 197, dims: 192, make: (r, i) => (i === 5001 ? -520 : i === 77 ? 310 : (r() * 2 - 1) * (1 + (i % 7))) },
  { name: 'heavy ties (values on a 1/4 grid)', tokens: 50, dims: 64, make: (r) => Math.round((r() * 2 - 1) * 8) / 4 },
  { name: 'all zeros, with negative zeros', tokens: 9, dims: 16, make: (_r, i) => (i % 2 ? -0 : 0) },
  { name: 'all equal', tokens: 5, dims: 8, make: () => -3.5 },
  { name: 'width not a multiple of 4', tokens: 7, dims: 13, make: (r) => (r() - 0.5) * 1e3 },
  { name: 'one cell', tokens: 1, dims: 1, make: () => 2 },
  { name: 'outlier dims over many tokens', tokens: 40, dims: 24, make: (r, i) => (i % 24 === 3 ? 60 + r() : r() - 0.5) },
];

// The kernel brackets the median from a sample before its one pass, and falls back to a selection over
// every cell when the bracket misses. The default bracket rarely misses; a zero margin (the bracket is one
// sampled value) almost always does, and a tiny sample with margin 1 lands either way: all must be exact.
const BRACKETS: MedianBracket[] = [DEFAULT_BRACKET, { sample: 16, margin: 0 }, { sample: 8, margin: 1 }];

describe('layer statistics kernel (WebAssembly SIMD)', () => {
  const criteria: StatsCriteria[] = [DEFAULT_CRITERIA, { absThreshold: 0.5, ratioThreshold: 1.01, outlierRatio: 1 }];
  for (const c of CASES) {
    it(`matches the definitions: ${c.name}`, () => {
      const r = random(c.tokens * 31 + c.dims);
      const x = Float32Array.from({ length: c.tokens * c.dims }, (_, i) => c.make(r, i));
      for (const crit of criteria) {
        for (const topK of [1, 3, 16, 10_000]) {
          const expected = naive(x, c.tokens, c.dims, topK, crit);
          for (const bracket of BRACKETS) {
            const kernel = new LayerStatsKernel({ layers: 2, batch: 2, tokens: c.tokens, dims: c.dims, topK }, bracket);
            kernel.slot(1, 2).set(x, x.length); // slot 1, image 1: offsets are honoured
            expectSame(kernel.stats(1, 1, crit), expected, `wasm k=${topK} bracket ${bracket.sample}±${bracket.margin}`);
          }
          expectSame(layerStats(x, new Int32Array(x.buffer), 0, c.tokens, c.dims, topK, crit, new StatsScratch()), expected, `js k=${topK}`);
        }
      }
    });
  }

  it("equals ONNX Runtime's in-graph reductions on a real model's hidden states", async () => {
    const spec = loadModel(fixtureModel('tiny-vit-op14'));
    const layers = Array.from({ length: spec.arch.numLayers + 1 }, (_, i) => i);
    const tapped = await openRunner(spec, { expose: layers.map(layerHook), reduce: { layers, attention: false, topK: 16, criteria: DEFAULT_CRITERIA } }, { device: 'cpu', threads: 1 });
    const r = random(7);
    const { height, width } = spec.preprocess;
    const pixels = Array.from({ length: 3 }, () => Float32Array.from({ length: 3 * height * width }, () => r() * 2 - 1));
    const out = await tapped.run(pixels);
    const [, tokens, dims] = out[layerHook(0)].dims.map(Number);
    const kernel = new LayerStatsKernel({ layers: layers.length, batch: 3, tokens, dims, topK: 16 });
    layers.forEach((l, slot) => kernel.slot(slot, 3).set(out[layerHook(l)].data as Float32Array));
    for (const [slot, l] of layers.entries()) {
      const hook = layerHook(l);
      for (let item = 0; item < 3; item++) {
        const per = (name: string, size: number) => Array.from((out[`${hook}.${name}`].data as ArrayLike<number | bigint>) as ArrayLike<number>).slice(item * size, (item + 1) * size).map(Number);
        const graph: LayerStats = {
          topValues: Float32Array.from(per('topk_values', 16)),
          topIndices: Int32Array.from(per('topk_indices', 16)),
          median: per('median', 1)[0],
          norms: Float32Array.from(per('norms', tokens)),
          dimMassive: Int32Array.from(per('dim_massive', dims)),
          dimOutlier: Int32Array.from(per('dim_outlier', dims)),
        };
        expectSame(kernel.stats(slot, item, DEFAULT_CRITERIA), graph, `layer ${l} image ${item}`);
      }
    }
    await tapped.close();
  });
});
