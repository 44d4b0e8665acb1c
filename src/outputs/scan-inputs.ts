/**
 * What a scan keeps in its store's meta table so that a store alone (a shard, a merge of shards) rebuilds
 * exactly the scan.json a single-process scan writes, without the model file.
 */
import type { ScanCriteria } from '../contracts/criteria.js';
import type { HookName } from '../contracts/hooks.js';
import type { TokenLayout } from '../model/layout.js';
import type { ScanModelInfo } from './scan-json.js';

export interface SummaryInputs {
  model: ScanModelInfo;
  layout: TokenLayout;
  criteria: ScanCriteria;
  topK: number;
  warnings: string[];
  /** Transformer blocks, and the hooks this graph cannot tap with the reason (attention summary notes). */
  hooks: { numBlocks: number; missing: [HookName, string][] };
}
