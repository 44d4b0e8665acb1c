/**
 * The optional scan.json sections `norms` and `attention`, recomputed from the store like the rest of the
 * summary. Which sections a scan wants (and the fixed norm threshold) is kept in the store's meta table
 * (`analysis`), so a resumed, merged or re-reported scan rebuilds the same sections.
 */
import { getMeta, setMeta, type Db } from '../store/db.js';
import { attnPattern } from '../hooks.js';
import type { TokenLayout } from '../model/layout.js';
import type { HookTable } from '../tap/plan.js';
import { invalidOption } from '../errors.js';
import { summarizeAttention, type AttentionSummary } from './attention.js';
import { DEFAULT_NORM_THRESHOLD, summarizeNorms, type NormSummary } from './norms.js';

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

export function saveAnalysis(db: Db, a: AnalysisOptions): void {
  setMeta(db, 'analysis', JSON.stringify(a));
}

export function loadAnalysis(db: Db): AnalysisOptions {
  const raw = getMeta(db, 'analysis');
  return raw ? { ...DEFAULT_ANALYSIS, ...(JSON.parse(raw) as Partial<AnalysisOptions>) } : DEFAULT_ANALYSIS;
}

/** The `norms` / `attention` sections of scan.json, as the store's meta asks for. */
export function analysisSections(db: Db, layout: TokenLayout, hooks: HookTable): { norms?: NormSummary; attention?: AttentionSummary } {
  const a = loadAnalysis(db);
  const out: { norms?: NormSummary; attention?: AttentionSummary } = {};
  if (a.norms) out.norms = summarizeNorms(db, layout, a.normThreshold);
  if (a.attention) {
    const missing = Array.from({ length: hooks.numBlocks }, (_, block) => ({ block, reason: hooks.missing.get(attnPattern(block)) }))
      .filter((m): m is { block: number; reason: string } => m.reason !== undefined);
    const summary = summarizeAttention(db, layout, missing);
    if (summary) out.attention = summary;
  }
  return out;
}
