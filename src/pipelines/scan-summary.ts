/**
 * scan.json recomputed from the store: the store's rows (store/queries.ts) through the pure summaries
 * (analyze/). One code path for scans and merges, so a merge of all shards equals a single run.
 */
import type { ScanCriteria } from '../contracts/criteria.js';
import { summarizeAttention, type AttentionSummary } from '../analyze/attention.js';
import { summarizeNorms, type NormSummary } from '../analyze/norms.js';
import { summarize } from '../analyze/summary.js';
import type { SummaryInputs } from '../outputs/scan-inputs.js';
import { attnPattern } from '../contracts/hooks.js';
import type { Shard } from '../images/shard.js';
import type { ModelSpec } from '../model/load.js';
import { modelInfo, SCAN_JSON_VERSION, type ScanJson } from '../outputs/scan-json.js';
import type { Db } from '../store/db.js';
import { clsRowRows, failedFiles, fileCounts, flaggedCellRows, headRows, layerRows, nonFiniteRows, normRows, outlierRows, sinkRows } from '../store/queries.js';
import { loadAnalysis } from '../store/scan-meta.js';
import { VERSION } from '../contracts/version.js';

export function summaryInputs(spec: ModelSpec, criteria: ScanCriteria, topK: number): SummaryInputs {
  return {
    model: modelInfo(spec),
    layout: spec.tokens,
    criteria,
    topK,
    warnings: spec.warnings,
    hooks: { numBlocks: spec.hooks.numBlocks, missing: [...spec.hooks.missing] },
  };
}

/** The `norms` / `attention` sections of scan.json, as the store's meta asks for. */
function analysisSections(db: Db, inputs: SummaryInputs): { norms?: NormSummary; attention?: AttentionSummary } {
  const a = loadAnalysis(db);
  const out: { norms?: NormSummary; attention?: AttentionSummary } = {};
  if (a.norms) out.norms = summarizeNorms((ordered) => normRows(db, ordered), inputs.layout, a.normThreshold);
  if (a.attention) {
    const why = new Map(inputs.hooks.missing);
    const missing = Array.from({ length: inputs.hooks.numBlocks }, (_, block) => ({ block, reason: why.get(attnPattern(block)) }))
      .filter((m): m is { block: number; reason: string } => m.reason !== undefined);
    const summary = summarizeAttention({ sinks: sinkRows(db), heads: () => headRows(db), clsRows: () => clsRowRows(db) }, inputs.layout, missing);
    if (summary) out.attention = summary;
  }
  return out;
}

/**
 * scan.json recomputed from the store. `shards` lists the shards the store holds when it is not a whole
 * dataset (absent for a single run and for a merge of all N shards, which equal a single run).
 */
export function scanJsonFrom(db: Db, inputs: SummaryInputs, shards?: Shard[]): ScanJson {
  const summary = summarize({ counts: fileCounts(db), errors: failedFiles(db), flaggedCells: () => flaggedCellRows(db), layers: () => layerRows(db), outliers: () => outlierRows(db), nonFinite: () => nonFiniteRows(db) }, inputs.layout);
  return {
    version: SCAN_JSON_VERSION,
    tool: { name: 'massivit', version: VERSION },
    model: inputs.model,
    criteria: { ...inputs.criteria, topK: inputs.topK },
    warnings: inputs.warnings,
    ...(shards && shards.length > 0 ? { shard: shards } : {}),
    ...summary,
    ...analysisSections(db, inputs),
  };
}
