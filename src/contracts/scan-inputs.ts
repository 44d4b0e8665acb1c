/**
 * What a scan keeps in its store's meta table so that a store alone (a shard, a merge of shards) rebuilds
 * exactly the scan.json a single-process scan writes, without the model file.
 */
import type { ScanCriteria } from '../analyze/criteria.js';
import type { HookName } from '../hooks.js';
import type { TokenLayout } from '../model/layout.js';
import type { ScanModelInfo } from '../report/scan-json.js';

export interface SummaryInputs {
  model: ScanModelInfo;
  layout: TokenLayout;
  criteria: ScanCriteria;
  topK: number;
  warnings: string[];
  /** Transformer blocks, and the hooks this graph cannot tap with the reason (attention summary notes). */
  hooks: { numBlocks: number; missing: [HookName, string][] };
}

/** Which optional scan.json sections a scan computes. */
export interface AnalysisOptions {
  /** Token-norm statistics (default on: the norms are stored anyway). */
  norms: boolean;
  /** Fixed high-norm threshold (default 150). */
  normThreshold: number;
  /** Attention-sink statistics (default off: needs the attention tap). */
  attention: boolean;
}
