/** The massive-activation criterion (Sun et al. 2024) and the near-miss / outlier-feature bands around it. */
import { invalidOption } from './errors.js';

export interface ScanCriteria {
  /** |a| must exceed this (default 100). */
  absThreshold: number;
  /** |a| / median(|a|) of the layer's hidden state must reach this (default 1000). */
  ratioThreshold: number;
  /** Near-miss: not massive, but |a| and the ratio both reach this fraction of the thresholds (default 0.1). */
  nearMissFactor: number;
  /** A dim is an outlier feature (Dettmers et al.) in an image when |a| > outlierRatio × median ... */
  outlierRatio: number;
  /** ... in at least this share of the tokens. */
  outlierShare: number;
}

/** The part of the criteria the statistics use (the WebAssembly kernel and the in-graph reductions). */
export type StatsCriteria = Pick<ScanCriteria, 'absThreshold' | 'ratioThreshold' | 'outlierRatio'>;

export const DEFAULT_CRITERIA: ScanCriteria = {
  absThreshold: 100,
  ratioThreshold: 1000,
  nearMissFactor: 0.1,
  outlierRatio: 20,
  outlierShare: 0.25,
};

export type CellKind = 'massive' | 'near-miss' | 'outlier' | 'top';

export function validateCriteria(c: ScanCriteria): ScanCriteria {
  const positive: (keyof ScanCriteria)[] = ['absThreshold', 'ratioThreshold', 'outlierRatio'];
  for (const k of positive) if (!(Number.isFinite(c[k]) && c[k] > 0)) throw invalidOption(k, 'a positive number', c[k]);
  for (const k of ['nearMissFactor', 'outlierShare'] as const) {
    if (!(Number.isFinite(c[k]) && c[k] > 0 && c[k] <= 1)) throw invalidOption(k, 'a number in (0, 1]', c[k]);
  }
  return c;
}

/** Classifies one top-k cell. `outlierDim` says whether its dim is an outlier feature in this image and layer. */
export function classifyCell(value: number, median: number, c: ScanCriteria, outlierDim: boolean): CellKind {
  const abs = Math.abs(value);
  const ratio = median > 0 ? abs / median : Infinity;
  if (outlierDim && abs > c.outlierRatio * median) return 'outlier';
  if (abs > c.absThreshold && ratio >= c.ratioThreshold) return 'massive';
  if (abs > c.absThreshold * c.nearMissFactor && ratio >= c.ratioThreshold * c.nearMissFactor) return 'near-miss';
  return 'top';
}
