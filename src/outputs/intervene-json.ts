/**
 * intervene.json, the result of `massivit intervene` (README "intervene.json"): its type, its documented
 * shape, and the one reader that checks both.
 */
import { readFileSync } from 'node:fs';
import { MassivitError, errorMessage } from '../contracts/errors.js';
import type { TokenRole } from '../model/layout.js';
import { checkFile, count, finite, flag, list, measure, nullable, oneOf, optional, record, text, tuple, type Check } from './validate.js';

export type InterventionMode = 'zero' | 'mean';

export const INTERVENTION_MODES: readonly InterventionMode[] = ['zero', 'mean'];

export interface CellRef {
  token: number;
  dim: number;
}

export interface InterveneCell extends CellRef {
  role: TokenRole;
  position?: [number, number];
  /** Dataset mean of the signed value (what mode 'mean' writes). */
  mean: number;
  meanAbs: number;
}

export interface InterveneResult {
  mode: 'zero' | 'mean' | 'control-zero';
  cells: number;
  /** Classifiers: share of images whose top-1 class is unchanged. */
  top1Agreement: number | null;
  /** Classifiers: mean and max over images of KL(original ‖ modified) of the class distribution, in nats. */
  meanKL: number | null;
  maxKL: number | null;
  /** Cosine similarity of the output embedding (see `output`) to the original: mean and min over images. */
  cosine: { mean: number; min: number };
  /** Leave-one-out kNN accuracy on the modified embeddings (class sub-folders only). */
  knnAccuracy: number | null;
}

export interface InterveneJson {
  version: 1;
  tool: { name: 'massivit'; version: string };
  model: { name: string; family: string; sha256: string; kind: 'classifier' | 'features'; output: string; synthetic?: boolean };
  layer: number;
  hook: string;
  at: { requested: number | 'auto'; source: 'explicit' | 'emergence' | 'near-miss emergence' };
  cells: { source: 'explicit' | 'scan: massive' | 'scan: near-miss'; scan: string | null; list: InterveneCell[] };
  control: { seed: number; rule: string; list: InterveneCell[] };
  images: { used: number; failed: number; errors: { path: string; reason: string }[] };
  classes: string[] | null;
  knn: { k: number; metric: 'cosine'; baseline: number } | null;
  results: InterveneResult[];
}

const m = measure as Check<number>;
const role = oneOf('cls', 'register', 'patch');
const cell = record<InterveneCell>({ token: count, dim: count, role, position: optional(tuple<[number, number]>(count, count)), mean: m, meanAbs: m });
const result = record<InterveneResult>({
  mode: oneOf('zero', 'mean', 'control-zero'),
  cells: count,
  top1Agreement: measure,
  meanKL: measure,
  maxKL: measure,
  cosine: record<InterveneResult['cosine']>({ mean: m, min: m }),
  knnAccuracy: measure,
});

const interveneShape = record<InterveneJson>({
  version: oneOf(1),
  tool: record<InterveneJson['tool']>({ name: oneOf('massivit'), version: text }),
  model: record<InterveneJson['model']>({ name: text, family: text, sha256: text, kind: oneOf('classifier', 'features'), output: text, synthetic: optional(flag) }),
  layer: count,
  hook: text,
  at: record<InterveneJson['at']>({
    requested: ((v, p) => (v === 'auto' ? 'auto' : count(v, p))) as Check<number | 'auto'>,
    source: oneOf('explicit', 'emergence', 'near-miss emergence'),
  }),
  cells: record<InterveneJson['cells']>({ source: oneOf('explicit', 'scan: massive', 'scan: near-miss'), scan: nullable(text), list: list(cell) }),
  control: record<InterveneJson['control']>({ seed: finite, rule: text, list: list(cell) }),
  images: record<InterveneJson['images']>({ used: count, failed: count, errors: list(record<{ path: string; reason: string }>({ path: text, reason: text })) }),
  classes: nullable(list(text)),
  knn: nullable(record<NonNullable<InterveneJson['knn']>>({ k: count, metric: oneOf('cosine'), baseline: m })),
  results: list(result),
});

/** The one reader of intervene.json: version and every documented field checked (exit 2 when bad). */
export function readInterveneJson(path: string): InterveneJson {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new MassivitError('BAD_OPTION', `Cannot read ${path}: ${errorMessage(err)}`, 'Pass the intervene.json written by `massivit intervene --out <dir>`');
  }
  if ((json as Partial<InterveneJson> | null)?.version !== 1) {
    throw new MassivitError('BAD_OPTION', `${path} is not an intervene.json of version 1`, 'Pass the intervene.json written by `massivit intervene --out <dir>`');
  }
  return checkFile(path, interveneShape, json, 'Pass the intervene.json written by `massivit intervene --out <dir>`');
}
