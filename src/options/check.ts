/** The checks the library entry points make before any work: same ranges and messages as the CLI. */
import { checkRange, type RangeName } from './ranges.js';
import { checkInputFolder, checkOutputFolder } from './paths.js';

/** Numeric options by their option name (= RANGES key); undefined means the default. */
export function checkRanges(values: Partial<Record<RangeName, unknown>>): void {
  for (const [name, value] of Object.entries(values)) checkRange(name as RangeName, value);
}

interface ScanLike {
  images: unknown;
  out: unknown;
  batch?: unknown;
  threads?: unknown;
  topK?: unknown;
  limit?: unknown;
  maxPixels?: unknown;
  normThreshold?: unknown;
  criteria?: Partial<Record<'absThreshold' | 'ratioThreshold' | 'nearMissFactor' | 'outlierRatio' | 'outlierShare', unknown>>;
}

/** scan(): every number in range, --images a listable folder, --out new or a folder our guard accepts. */
export function checkScanOptions(o: ScanLike, storeFile: string): void {
  const { batch, threads, topK, limit, maxPixels, normThreshold } = o;
  checkRanges({ batch, threads, topK, limit, maxPixels, normThreshold, ...o.criteria });
  checkInputFolder('--images', o.images);
  checkOutputFolder('--out', o.out, storeFile);
}
