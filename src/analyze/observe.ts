/**
 * Turn one batch's session outputs (the in-graph statistics of every tapped layer) into per-image,
 * per-layer observations. Everything here is per image, so results merge exactly across shards.
 */
import type { Tensor } from 'onnxruntime-node';
import { layerHook } from '../hooks.js';
import type { TokenLayout } from '../model/layout.js';
import { classifyCell, type CellKind, type ScanCriteria } from './criteria.js';

export interface Cell {
  rank: number;
  token: number;
  dim: number;
  value: number;
  kind: CellKind;
}

export interface LayerObservation {
  layer: number;
  median: number;
  /** The top-k cells by |a|, ranked. */
  cells: Cell[];
  /** Cells meeting the massive criterion anywhere in the hidden state (may exceed the top-k). */
  massiveCount: number;
  /** Dims that are outlier features in this image: [dim, tokens above outlierRatio × median]. */
  outlierDims: [number, number][];
  /** L2 norm of every token. */
  norms: Float32Array;
}

export type Outputs = Record<string, Tensor>;

function slice(t: Tensor, item: number): ArrayLike<number | bigint> {
  const per = t.dims.slice(1).reduce((a, d) => a * d, 1);
  return (t.data as Float32Array | BigInt64Array).subarray(item * per, (item + 1) * per);
}

function observeLayer(out: Outputs, item: number, layer: number, layout: TokenLayout, c: ScanCriteria): LayerObservation {
  const hook = layerHook(layer);
  const values = slice(out[`${hook}.topk_values`], item) as Float32Array;
  const indices = slice(out[`${hook}.topk_indices`], item) as BigInt64Array;
  const median = (slice(out[`${hook}.median`], item) as Float32Array)[0];
  const norms = Float32Array.from(slice(out[`${hook}.norms`], item) as Float32Array);
  const dimMassive = slice(out[`${hook}.dim_massive`], item) as Float32Array;
  const dimOutlier = slice(out[`${hook}.dim_outlier`], item) as Float32Array;
  const dims = dimMassive.length;
  const tokens = layout.sequenceLength;
  const outlierDims: [number, number][] = [];
  let massiveCount = 0;
  for (let d = 0; d < dims; d++) {
    massiveCount += dimMassive[d];
    if (dimOutlier[d] >= c.outlierShare * tokens) outlierDims.push([d, dimOutlier[d]]);
  }
  const outlierSet = new Set(outlierDims.map(([d]) => d));
  const cells: Cell[] = Array.from(values, (value, rank) => {
    const flat = Number(indices[rank]);
    const dim = flat % dims;
    return { rank, token: (flat - dim) / dims, dim, value, kind: classifyCell(value, median, c, outlierSet.has(dim)) };
  });
  return { layer, median, cells, massiveCount, outlierDims, norms };
}

/** Observations for every image of a batch: result[item][i] is layer `layers[i]`. */
export function observeBatch(out: Outputs, batchSize: number, layers: number[], layout: TokenLayout, c: ScanCriteria): LayerObservation[][] {
  return Array.from({ length: batchSize }, (_, item) => layers.map((layer) => observeLayer(out, item, layer, layout, c)));
}
