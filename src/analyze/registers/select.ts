/**
 * How many of the ranked register neurons to take. Default: the candidates are the sparse neurons (mean |a|
 * at the outliers ≥ `minRatio` × elsewhere, default 100: register neurons fire almost only there), and k is
 * the smallest top set of them, by excess mean |a| (at the outliers − elsewhere), that holds ≥ 95% of the
 * candidates' total excess. `top` takes a fixed k instead (the sparsity filter then applies only if given).
 */
import type { NeuronScore } from './scores.js';

export interface Selection {
  chosen: NeuronScore[];
  k: number;
  rule: string;
  /** Share of the candidates' total excess (atOutliers − elsewhere, clipped at 0) the chosen hold. */
  massShare: number;
  candidates: number;
}

const MASS_SHARE = 0.95;
const DEFAULT_NEURON_RATIO = 100;

export function selectNeurons(ranked: NeuronScore[], opts: { top?: number; minNeuronRatio?: number } = {}): Selection {
  const minRatio = opts.minNeuronRatio ?? (opts.top === undefined ? DEFAULT_NEURON_RATIO : 0);
  const candidates = ranked.filter((s) => (s.ratio === null || s.ratio >= minRatio) && s.atOutliers > s.elsewhere);
  const excess = candidates.map((s) => s.atOutliers - s.elsewhere);
  const total = excess.reduce((a, v) => a + v, 0);
  const share = (k: number) => (total > 0 ? excess.slice(0, k).reduce((a, v) => a + v, 0) / total : 0);
  const filter = minRatio > 0 ? `neurons with mean |a| at the outliers ≥ ${minRatio}× elsewhere, ` : '';
  let k: number;
  let rule: string;
  if (opts.top !== undefined) {
    k = Math.min(opts.top, candidates.length);
    rule = `fixed: the top ${opts.top} ${filter}ranked by excess mean |a| at the outliers (--top)`;
  } else {
    k = 0;
    while (k < candidates.length && share(k) < MASS_SHARE - 1e-12) k++;
    rule = `${filter}ranked by excess mean |a| (at the outliers − elsewhere); the smallest top set holding ≥ ${MASS_SHARE * 100}% of their total excess`;
  }
  return { chosen: candidates.slice(0, k), k, rule, massShare: share(k), candidates: candidates.length };
}
