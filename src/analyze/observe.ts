/**
 * Per-image, per-layer observations from layer statistics: those of the WebAssembly kernel (the scan's
 * path, analyze/analyser.ts) or the in-graph reductions of tap/reduce.ts (observeBatch). Everything here
 * is per image, so results merge exactly across shards.
 */
import type { Tensor } from 'onnxruntime-node';
import { layerHook } from '../hooks.js';
import type { TokenLayout } from '../model/layout.js';
import type { Cell, LayerObservation } from '../contracts/rows.js';
import { classifyCell, type ScanCriteria } from './criteria.js';
import type { LayerStats } from './layer-stats.js';

export type { Cell, LayerObservation } from '../contracts/rows.js';

export type Outputs = Record<string, Tensor>;

function slice(t: Tensor, item: number): ArrayLike<number | bigint> {
  const per = t.dims.slice(1).reduce((a, d) => a * d, 1);
  return (t.data as Float32Array | BigInt64Array).subarray(item * per, (item + 1) * per);
}

/** One layer's observation from its statistics: cells classified, outlier dims, massive count. */
export function toObservation(layer: number, s: LayerStats, layout: TokenLayout, c: ScanCriteria): LayerObservation {
  const dims = s.dimMassive.length;
  const tokens = layout.sequenceLength;
  const outlierDims: [number, number][] = [];
  let massiveCount = 0;
  for (let d = 0; d < dims; d++) {
    massiveCount += s.dimMassive[d];
    if (s.dimOutlier[d] >= c.outlierShare * tokens) outlierDims.push([d, s.dimOutlier[d]]);
  }
  const outlierSet = new Set(outlierDims.map(([d]) => d));
  const cells: Cell[] = Array.from(s.topValues, (value, rank) => {
    const flat = Number(s.topIndices[rank]);
    const dim = flat % dims;
    return { rank, token: (flat - dim) / dims, dim, value, kind: classifyCell(value, s.median, c, outlierSet.has(dim)) };
  });
  return { layer, median: s.median, cells, massiveCount, outlierDims, norms: s.norms, ...(s.nonFinite ? { nonFinite: s.nonFinite } : {}) };
}

/** The in-graph statistics of tap/reduce.ts for one image and layer. */
function graphStats(out: Outputs, item: number, layer: number): LayerStats {
  const hook = layerHook(layer);
  return {
    topValues: slice(out[`${hook}.topk_values`], item) as Float32Array,
    topIndices: Int32Array.from(slice(out[`${hook}.topk_indices`], item) as BigInt64Array, Number),
    median: (slice(out[`${hook}.median`], item) as Float32Array)[0],
    norms: Float32Array.from(slice(out[`${hook}.norms`], item) as Float32Array),
    dimMassive: Int32Array.from(slice(out[`${hook}.dim_massive`], item) as Float32Array),
    dimOutlier: Int32Array.from(slice(out[`${hook}.dim_outlier`], item) as Float32Array),
  };
}

function observeLayer(out: Outputs, item: number, layer: number, layout: TokenLayout, c: ScanCriteria): LayerObservation {
  return toObservation(layer, graphStats(out, item, layer), layout, c);
}

/** Observations for every image of a batch from in-graph statistics (tap/reduce.ts): result[item][i] is layer `layers[i]`. */
export function observeBatch(out: Outputs, batchSize: number, layers: number[], layout: TokenLayout, c: ScanCriteria): LayerObservation[][] {
  return Array.from({ length: batchSize }, (_, item) => layers.map((layer) => observeLayer(out, item, layer, layout, c)));
}

