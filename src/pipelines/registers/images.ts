/** The images a registers command runs on: walked once, decoded per pass through the runner's stream. */
import { resolve } from 'node:path';
import { MassivitError } from '../../contracts/errors.js';
import { DEFAULT_LIMITS } from '../../images/model-view.js';
import { walkImages, type ImageEntry } from '../../images/walk.js';
import type { PreprocessSpec } from '../../model/preprocessor.js';
import { decodedBatches } from '../../run/stream.js';

export interface ImageSet {
  dir: string;
  entries: ImageEntry[];
  /** Files that could not be used, with the reason (walk errors and decode failures of the first pass). */
  errors: { path: string; reason: string }[];
}

export async function imageSet(dir: string, limit?: number): Promise<ImageSet> {
  const walked = await walkImages(resolve(dir));
  const entries = limit !== undefined ? walked.entries.slice(0, limit) : walked.entries;
  return { dir: resolve(dir), entries, errors: [...walked.errors] };
}

/**
 * Runs `each` on every batch of decodable images, in list order; the images that fail are recorded in
 * `set.errors` by the first pass only (later passes see the same files fail the same way). Returns the count used.
 */
export async function forEachBatch(set: ImageSet, preprocess: PreprocessSpec, batch: number, first: boolean, each: (pixels: Float32Array[], rels: string[]) => Promise<void>): Promise<number> {
  let used = 0;
  for await (const b of decodedBatches(set.entries, { preprocess, maxPixels: DEFAULT_LIMITS.maxPixels, hash: false }, batch)) {
    if (first) for (const f of b.failed) set.errors.push({ path: f.entry.path, reason: f.reason });
    if (b.ok.length === 0) continue;
    await each(b.ok.map((d) => d.pixels!), b.ok.map((d) => d.entry.path));
    used += b.ok.length;
  }
  if (used === 0) throw new MassivitError('BAD_OPTION', `No usable image in ${set.dir}`);
  return used;
}
