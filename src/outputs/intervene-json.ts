/**
 * intervene.json, the result of `massivit intervene` (README "intervene.json"): its type, its documented
 * shape, and the one reader that checks both. Version 1; the fields added with noise, shuffle and targets
 * (target, layers, cells.tokens, cells.list[].sd, results[].seed, rules) are optional, so a reader of the
 * old fields reads new files, and older files (without them) still pass.
 */
import { MassivitError } from '../contracts/errors.js';
import type { TokenRole } from '../model/layout.js';
import { checkFile, count, finite, flag, list, measure, nullable, oneOf, optional, parseJsonFile, record, text, tuple, type Check } from './validate.js';

export type InterventionMode = 'zero' | 'mean' | 'noise' | 'shuffle';
export const INTERVENTION_MODES: readonly InterventionMode[] = ['zero', 'mean', 'noise', 'shuffle'];
export type InterventionTarget = 'massive' | 'registers' | 'cls' | 'cells';
export const INTERVENTION_TARGETS: readonly InterventionTarget[] = ['massive', 'registers', 'cls', 'cells'];

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
  /** Dataset standard deviation (what mode 'noise' draws with); absent in older files. */
  sd?: number;
}

export interface InterveneResult {
  mode: InterventionMode | 'control-zero';
  /** Cells edited per image: all layers together. */
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
  /** noise, shuffle: the seed of the draws / of the derangement. */
  seed?: number;
}

export interface InterveneJson {
  version: 1;
  tool: { name: 'massivit'; version: string };
  model: { name: string; family: string; sha256: string; kind: 'classifier' | 'features'; output: string; synthetic?: boolean };
  /** What was edited; absent in files written before targets existed (then: massive, or cells when explicit). */
  target?: InterventionTarget;
  /** The first (for massive/cells: the only) hidden_states index edited. */
  layer: number;
  hook: string;
  /** Every hidden_states index edited, ascending; absent in older files (= [layer]). */
  layers?: number[];
  at: { requested: number | 'auto'; source: 'explicit' | 'emergence' | 'near-miss emergence' | 'first layer' };
  cells: {
    source: 'explicit' | 'scan: massive' | 'scan: near-miss' | 'registers' | 'cls';
    scan: string | null;
    /** The cells at `layer`, with their dataset moments there (the same cells are edited at every layer). */
    list: InterveneCell[];
    /** Token targets: the tokens edited whole (every dim). */
    tokens?: number[];
  };
  control: { seed: number; rule: string; list: InterveneCell[] };
  images: { used: number; failed: number; errors: { path: string; reason: string }[] };
  classes: string[] | null;
  knn: { k: number; metric: 'cosine'; baseline: number } | null;
  results: InterveneResult[];
  /** How noise and shuffle draw their values (present when those modes ran). */
  rules?: Partial<Record<'noise' | 'shuffle', string>>;
}

const m = measure as Check<number>;
const role = oneOf('cls', 'register', 'patch');
const cell = record<InterveneCell>({ token: count, dim: count, role, position: optional(tuple<[number, number]>(count, count)), mean: m, meanAbs: m, sd: optional(m) });
const result = record<InterveneResult>({
  mode: oneOf('zero', 'mean', 'noise', 'shuffle', 'control-zero'),
  cells: count,
  top1Agreement: measure,
  meanKL: measure,
  maxKL: measure,
  cosine: record<InterveneResult['cosine']>({ mean: m, min: m }),
  knnAccuracy: measure,
  seed: optional(finite),
});

const interveneShape = record<InterveneJson>({
  version: oneOf(1),
  tool: record<InterveneJson['tool']>({ name: oneOf('massivit'), version: text }),
  model: record<InterveneJson['model']>({ name: text, family: text, sha256: text, kind: oneOf('classifier', 'features'), output: text, synthetic: optional(flag) }),
  target: optional(oneOf(...INTERVENTION_TARGETS)),
  layer: count,
  hook: text,
  layers: optional(list(count)),
  at: record<InterveneJson['at']>({
    requested: ((v, p) => (v === 'auto' ? 'auto' : count(v, p))) as Check<number | 'auto'>,
    source: oneOf('explicit', 'emergence', 'near-miss emergence', 'first layer'),
  }),
  cells: record<InterveneJson['cells']>({ source: oneOf('explicit', 'scan: massive', 'scan: near-miss', 'registers', 'cls'), scan: nullable(text), list: list(cell), tokens: optional(list(count)) }),
  control: record<InterveneJson['control']>({ seed: finite, rule: text, list: list(cell) }),
  images: record<InterveneJson['images']>({ used: count, failed: count, errors: list(record<{ path: string; reason: string }>({ path: text, reason: text })) }),
  classes: nullable(list(text)),
  knn: nullable(record<NonNullable<InterveneJson['knn']>>({ k: count, metric: oneOf('cosine'), baseline: m })),
  results: list(result),
  rules: optional(record<NonNullable<InterveneJson['rules']>>({ noise: optional(text), shuffle: optional(text) })),
});

/** The one reader of intervene.json: version and every documented field checked (exit 2 when bad). */
export function readInterveneJson(path: string): InterveneJson {
  const json = parseJsonFile(path, (why) => new MassivitError('BAD_OPTION', `Cannot read ${path}: ${why}`, 'Pass the intervene.json written by `massivit intervene --out <dir>`'));
  if ((json as Partial<InterveneJson> | null)?.version !== 1) {
    throw new MassivitError('BAD_OPTION', `${path} is not an intervene.json of version 1`, 'Pass the intervene.json written by `massivit intervene --out <dir>`');
  }
  return checkFile(path, interveneShape, json, 'Pass the intervene.json written by `massivit intervene --out <dir>`');
}
