/**
 * The optional scan.json sections `norms` and `attention`: which ones a scan wants (and the fixed norm
 * threshold). The choice is kept in the store's meta, so a resumed, merged or re-reported scan rebuilds
 * the same sections.
 */
import { invalidOption } from './errors.js';

/** The fixed high-norm threshold of Darcet et al. (patch-token L2 norm). */
export const DEFAULT_NORM_THRESHOLD = 150;

/** Which optional scan.json sections a scan computes. */
export interface AnalysisOptions {
  /** Token-norm statistics (default on: the norms are stored anyway). */
  norms: boolean;
  /** Fixed high-norm threshold (default 150). */
  normThreshold: number;
  /** Attention-sink statistics (default off: needs the attention tap). */
  attention: boolean;
}

export const DEFAULT_ANALYSIS: AnalysisOptions = { norms: true, normThreshold: DEFAULT_NORM_THRESHOLD, attention: false };

export function resolveAnalysis(opts: Partial<AnalysisOptions>): AnalysisOptions {
  const a = { ...DEFAULT_ANALYSIS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) } as AnalysisOptions;
  if (!(Number.isFinite(a.normThreshold) && a.normThreshold > 0)) throw invalidOption('--norm-threshold', 'a positive number', a.normThreshold);
  return a;
}
