/**
 * What scan.json needs besides the per-image rows, kept in the store's meta table at scan time, so that a
 * store alone (a shard on a cluster node, a merged set of shards) rebuilds exactly the scan.json a
 * single-process scan writes — without the model file. Meta keys:
 *   summaryInputs  JSON SummaryInputs (model info, token layout, criteria, top-k, warnings, missing taps)
 *   shard          'i/N' of the last scan into this store, or 'all'
 *   finished       '1' once that scan wrote scan.json; '0' while it runs (a killed scan stays '0')
 */
import { analysisSections } from '../analyze/extras.js';
import type { ScanCriteria } from '../analyze/criteria.js';
import { summarize } from '../analyze/summary.js';
import type { HookName } from '../hooks.js';
import type { Shard } from '../images/shard.js';
import type { TokenLayout } from '../model/layout.js';
import type { ModelSpec } from '../model/load.js';
import { modelInfo, SCAN_JSON_VERSION, type ScanJson, type ScanModelInfo } from '../report/scan-json.js';
import type { HookTable } from '../tap/plan.js';
import { VERSION } from '../version.js';
import { getMeta, setMeta, type Db } from './db.js';

export interface SummaryInputs {
  model: ScanModelInfo;
  layout: TokenLayout;
  criteria: ScanCriteria;
  topK: number;
  warnings: string[];
  /** Transformer blocks, and the hooks this graph cannot tap with the reason (attention summary notes). */
  hooks: { numBlocks: number; missing: [HookName, string][] };
}

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

/** Called when a scan starts: what scan.json needs, this run's shard, and "not finished yet". */
export function recordScanStart(db: Db, inputs: SummaryInputs, shard: Shard | undefined): void {
  db.transaction(() => {
    setMeta(db, 'summaryInputs', JSON.stringify(inputs));
    setMeta(db, 'shard', shard ? formatShard(shard) : 'all');
    setMeta(db, 'finished', '0');
  })();
}

export function recordScanFinished(db: Db): void {
  setMeta(db, 'finished', '1');
}

export function formatShard(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

export function loadSummaryInputs(db: Db): SummaryInputs | undefined {
  const raw = getMeta(db, 'summaryInputs');
  return raw === undefined ? undefined : (JSON.parse(raw) as SummaryInputs);
}

/** A HookTable with what the summaries read from it (block count and missing taps). */
function hookTable(h: SummaryInputs['hooks']): HookTable {
  return { numBlocks: h.numBlocks, tensors: new Map(), missing: new Map(h.missing), layerNormKind: '', opset: 0 };
}

/**
 * scan.json recomputed from the store. `shards` lists the shards the store holds when it is not a whole
 * dataset (absent for a single run and for a merge of all N shards, which equal a single run).
 */
export function scanJsonFrom(db: Db, inputs: SummaryInputs, shards?: Shard[]): ScanJson {
  const summary = summarize(db, inputs.layout, inputs.criteria);
  return {
    version: SCAN_JSON_VERSION,
    tool: { name: 'massivit', version: VERSION },
    model: inputs.model,
    criteria: { ...inputs.criteria, topK: inputs.topK },
    warnings: inputs.warnings,
    ...(shards && shards.length > 0 ? { shard: shards } : {}),
    ...summary,
    ...analysisSections(db, inputs.layout, hookTable(inputs.hooks)),
  };
}
