/**
 * Per-image, per-layer observations from the layer statistics of the WebAssembly kernel (the scan's path,
 * pipelines/analysis.ts). Everything here is per image, so results merge exactly across shards.
 */
import type { TokenLayout } from '../model/layout.js';
import type { Cell, LayerObservation } from '../contracts/rows.js';
import { classifyCell, type ScanCriteria } from '../contracts/criteria.js';
import type { LayerStats } from './layer-stats.js';

export type { LayerObservation } from '../contracts/rows.js';

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
