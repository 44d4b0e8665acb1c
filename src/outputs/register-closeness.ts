/**
 * register-closeness.json, written by `registers add --images` into the new model folder: how close the
 * test-time-register model stays to its source on those images. One writer and one validating reader.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../contracts/atomic.js';
import { MassivitError } from '../contracts/errors.js';
import { checkFile, count, finite, flag, measure, oneOf, parseJsonFile, record, text } from './validate.js';

export const CLOSENESS_FILE = 'register-closeness.json';

export interface Closeness {
  images: number;
  /** The output compared: logits, pooler_output / image_embeds, or last_hidden_state[CLS]. */
  output: string;
  kind: 'classifier' | 'features';
  /** Classifiers: share of images whose top-1 class is unchanged. */
  top1Agreement: number | null;
  /** Classifiers: mean and max over images of KL(original ‖ new), in nats. */
  meanKL: number | null;
  maxKL: number | null;
  cosine: { mean: number; min: number };
  /** True when every output value of every image is bit-identical. */
  identical: boolean;
}

export interface ClosenessJson extends Closeness {
  imagesDir: string;
}

export function writeCloseness(modelDir: string, json: ClosenessJson): string {
  const path = join(modelDir, CLOSENESS_FILE);
  writeFileAtomic(path, JSON.stringify(json, null, 2) + '\n');
  return path;
}

const closenessShape = record<ClosenessJson>({
  imagesDir: text,
  images: count,
  output: text,
  kind: oneOf('classifier', 'features'),
  top1Agreement: measure,
  meanKL: measure,
  maxKL: measure,
  cosine: record<ClosenessJson['cosine']>({ mean: finite, min: finite }),
  identical: flag,
});

/** The one reader of register-closeness.json: every field checked (BAD_OUTPUT naming the field when bad). */
export function readCloseness(modelDir: string): ClosenessJson {
  const path = join(modelDir, CLOSENESS_FILE);
  const json = parseJsonFile(path, (why) => new MassivitError('BAD_OUTPUT', `Cannot read ${path}: ${why}`));
  return checkFile(path, closenessShape, json);
}
