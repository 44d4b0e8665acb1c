/**
 * Where the high-norm outlier tokens are (pure): per layer, the L2 norms of the patch tokens of every image;
 * the detection layer is the one whose largest patch norm stands out most from the median (max / median),
 * and its outliers are the patch tokens above a threshold (default mean + 3 sd of that layer's patch norms)
 * that are also at least `minRatio` × the median: a model without high-norm patches has none.
 */

export interface PatchNorms {
  /** norms[layer - 1][image * patches + patch], layers 1 … N (block outputs). */
  byLayer: Float32Array[];
  images: number;
  patches: number;
}

export interface LayerNormStats {
  layer: number;
  mean: number;
  sd: number;
  median: number;
  max: number;
  /** max / median: how clearly the highest-norm patches stand out. */
  ratio: number;
}

export interface Detection {
  layer: number;
  layerSource: 'explicit' | 'largest max/median patch-norm ratio';
  threshold: number;
  thresholdSource: 'explicit' | 'mean + 3 sd';
  /** Outliers must also reach minRatio × the median patch norm of the layer. */
  minRatio: number;
  stats: LayerNormStats[];
  /** 1 where (image, patch) is an outlier at the detection layer. */
  outlier: Uint8Array;
  count: number;
  /** Outliers per patch index (summed over images). */
  byPatch: number[];
}

const DEFAULT_MIN_RATIO = 10;
const SDS = 3;

function layerStats(norms: Float32Array, layer: number): LayerNormStats {
  const n = norms.length;
  let sum = 0;
  for (const v of norms) sum += v;
  const mean = sum / n;
  let sq = 0;
  for (const v of norms) sq += (v - mean) ** 2;
  const sorted = Float32Array.from(norms).sort();
  const median = n % 2 ? sorted[n >> 1] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  const max = sorted[n - 1];
  return { layer, mean, sd: Math.sqrt(sq / n), median, max, ratio: median > 0 ? max / median : Infinity };
}

export function detectOutliers(norms: PatchNorms, opts: { layer?: number; threshold?: number; minRatio?: number } = {}): Detection {
  const stats = norms.byLayer.map((layerNorms, i) => layerStats(layerNorms, i + 1));
  const best = stats.reduce((a, s) => (s.ratio > a.ratio ? s : a), stats[0]);
  const at = opts.layer !== undefined ? stats[opts.layer - 1] : best;
  if (!at) throw new RangeError(`layer ${opts.layer} is not a block output (1 … ${stats.length})`);
  const minRatio = opts.minRatio ?? DEFAULT_MIN_RATIO;
  const threshold = opts.threshold ?? at.mean + SDS * at.sd;
  const floor = Math.max(threshold, minRatio * at.median);
  const values = norms.byLayer[at.layer - 1];
  const outlier = new Uint8Array(values.length);
  const byPatch = new Array<number>(norms.patches).fill(0);
  let count = 0;
  values.forEach((v, i) => {
    if (v > floor) {
      outlier[i] = 1;
      byPatch[i % norms.patches] += 1;
      count += 1;
    }
  });
  return {
    layer: at.layer,
    layerSource: opts.layer !== undefined ? 'explicit' : 'largest max/median patch-norm ratio',
    threshold,
    thresholdSource: opts.threshold !== undefined ? 'explicit' : 'mean + 3 sd',
    minRatio,
    stats,
    outlier,
    count,
    byPatch,
  };
}
