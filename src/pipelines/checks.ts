/** The checks the library entry points make before any work: same ranges and messages as the CLI. */
import { MassivitError } from '../contracts/errors.js';
import { checkRange, type RangeName } from '../contracts/ranges.js';
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

/** What one batch's hidden states may take (float32, every layer): above it a big model runs out of memory. */
const BATCH_BYTES = 4 * 1024 ** 3;

/**
 * --batch against the model's size, once its config is read and before the session opens: the hidden
 * states of all layers of one batch leave the session at once (the range alone allows 1024 ViT-L images,
 * 27 GB). A bare .onnx learns its width from the probe; it is checked by the range only.
 */
export function checkBatchMemory(batch: number, layers: number, tokens: number, dims: number): void {
  const perImage = layers * tokens * dims * 4;
  if (perImage <= 0 || batch * perImage <= BATCH_BYTES) return;
  const most = Math.max(1, Math.floor(BATCH_BYTES / perImage));
  throw new MassivitError('BAD_OPTION', `--batch ${batch} needs ${(batch * perImage / 1024 ** 3).toFixed(1)} GiB for one batch's hidden states with this model (${layers} layers × ${tokens} tokens × ${dims} dims); at most ${most} fits the ${BATCH_BYTES / 1024 ** 3} GiB budget`, `Pass --batch ${most} or less`);
}
