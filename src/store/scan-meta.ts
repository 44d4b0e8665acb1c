/**
 * The scan's own facts in the store's meta table. Meta keys:
 *   summaryInputs  JSON SummaryInputs (model info, token layout, criteria, top-k, warnings, missing taps)
 *   analysis       JSON AnalysisOptions (which optional sections scan.json has)
 *   shard          'i/N' of the last scan into this store, or 'all'
 *   finished       '1' once that scan wrote scan.json; '0' while it runs (a killed scan stays '0')
 */
import { DEFAULT_ANALYSIS, type AnalysisOptions } from '../contracts/analysis.js';
import type { SummaryInputs } from '../outputs/scan-inputs.js';
import type { Shard } from '../images/shard.js';
import { getMeta, setMeta, type Db } from './db.js';

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

export function saveAnalysis(db: Db, a: AnalysisOptions): void {
  setMeta(db, 'analysis', JSON.stringify(a));
}

/** The stored options; keys an older store lacks take the defaults. */
export function loadAnalysis(db: Db): AnalysisOptions {
  const raw = getMeta(db, 'analysis');
  return { ...DEFAULT_ANALYSIS, ...(raw ? (JSON.parse(raw) as Partial<AnalysisOptions>) : {}) };
}
