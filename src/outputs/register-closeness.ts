/**
 * register-closeness.json, written by `registers add --images` into the new model folder: how close the
 * test-time-register model stays to its source on those images. One writer and one validating reader.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../contracts/atomic.js';
import { MassivitError, errorMessage } from '../contracts/errors.js';

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

const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const numOrNull = (v: unknown) => v === null || num(v);

export function readCloseness(modelDir: string): ClosenessJson {
  const path = join(modelDir, CLOSENESS_FILE);
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new MassivitError('BAD_OUTPUT', `Cannot read ${path}: ${errorMessage(err)}`);
  }
  const cos = j?.cosine as Record<string, unknown> | undefined;
  const ok =
    typeof j === 'object' && j !== null && typeof j.imagesDir === 'string' && Number.isInteger(j.images) && typeof j.output === 'string' &&
    (j.kind === 'classifier' || j.kind === 'features') && numOrNull(j.top1Agreement) && numOrNull(j.meanKL) && numOrNull(j.maxKL) &&
    num(cos?.mean) && num(cos?.min) && typeof j.identical === 'boolean';
  if (!ok) throw new MassivitError('BAD_OUTPUT', `${path} is not a register-closeness file (a field is missing or of the wrong type)`);
  return j as unknown as ClosenessJson;
}
