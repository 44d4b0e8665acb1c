/**
 * The bias.json contract (`massivit bias`, documented in the README): the explicit-attention-bias test
 * of one model. One type, one reader that validates field by field (validate.ts), so the report and any
 * script read it the same way. Changing a field's name or meaning is a breaking change: bump
 * BIAS_JSON_VERSION and say what changed. The result rows are analyze/bias.ts's.
 */
import { existsSync } from 'node:fs';
import { BIAS_VARIANTS, type BiasResult, type BiasShare } from '../analyze/bias.js';
import { MassivitError } from '../contracts/errors.js';
import { checkFile, count, finite, flag, list, measure, oneOf, optional, parseJsonFile, record, text, type Check } from './validate.js';

export type { BiasResult, BiasVariant } from '../analyze/bias.js';
export const BIAS_JSON_VERSION = 1;

export interface BiasJson {
  version: typeof BIAS_JSON_VERSION;
  tool: { name: 'massivit'; version: string };
  model: { name: string; family: string; sha256: string; kind: 'classifier' | 'features'; output: string; synthetic?: boolean };
  /** The emergence layer: the massive activations are removed at hidden_states[layer]. */
  layer: number;
  at: { requested: number | 'auto'; source: 'explicit' | 'emergence' | 'near-miss emergence' };
  scan: string;
  sinks: {
    /** Tokens that hold the massive cells: their keys and values give k′ and v′. */
    tokens: number[];
    /** The massive cells found at `layer` (token, dim, dataset mean). */
    cells: { token: number; dim: number; mean: number }[];
    /** What `zero` and `bias + zero` remove at `layer`. */
    removal: 'massive cells' | 'register tokens';
    removed: number;
  };
  /** 0-based blocks that get the slot: every block whose input is hidden_states[layer] or later. */
  blocks: number[];
  slot: {
    /** Added to the single slot's scores: log(number of sink tokens), so it weighs as the sinks together when their keys agree. */
    logit: number;
    /** Per block: the L2 norm of the single slot's k′ and v′ over all heads (what was added, in size). */
    norms: { block: number; key: number; value: number }[];
  };
  images: { used: number; failed: number; errors: { path: string; reason: string }[] };
  results: BiasResult[];
  /**
   * How much of zero's damage the bias undoes: 1 − d(bias + zero) / d(zero), with d the mean KL
   * (classifiers) or 1 − mean cosine (feature models). 1: all of it; 0: none; < 0: worse than zeroing.
   */
  recovered: number | null;
}

const m = measure as Check<number>;

const share = record<BiasShare>({ block: count, sinks: m, slot: m });
const result = record<BiasResult>({
  variant: oneOf(...BIAS_VARIANTS),
  top1Agreement: measure,
  meanKL: measure,
  maxKL: measure,
  cosine: record<BiasResult['cosine']>({ mean: m, min: m }),
  sinkShare: m,
  slotShare: m,
  perBlock: list(share),
});

const biasShape = record<BiasJson>({
  version: oneOf(BIAS_JSON_VERSION),
  tool: record<BiasJson['tool']>({ name: oneOf('massivit'), version: text }),
  model: record<BiasJson['model']>({ name: text, family: text, sha256: text, kind: oneOf('classifier', 'features'), output: text, synthetic: optional(flag) }),
  layer: count,
  at: record<BiasJson['at']>({
    requested: ((v, p) => (v === 'auto' ? 'auto' : count(v, p))) as Check<number | 'auto'>,
    source: oneOf('explicit', 'emergence', 'near-miss emergence'),
  }),
  scan: text,
  sinks: record<BiasJson['sinks']>({
    tokens: list(count),
    cells: list(record<BiasJson['sinks']['cells'][number]>({ token: count, dim: count, mean: m })),
    removal: oneOf('massive cells', 'register tokens'),
    removed: count,
  }),
  blocks: list(count),
  slot: record<BiasJson['slot']>({ logit: finite, norms: list(record<BiasJson['slot']['norms'][number]>({ block: count, key: m, value: m })) }),
  images: record<BiasJson['images']>({ used: count, failed: count, errors: list(record<{ path: string; reason: string }>({ path: text, reason: text })) }),
  results: list(result),
  recovered: measure,
});

const HINT = 'Pass the bias.json written by `massivit bias --out <dir>`';

/** A parsed bias.json, checked field by field; a bad field is one BAD_OUTPUT line naming the file and the field. */
function checkBias(file: string, json: unknown): BiasJson {
  return checkFile(file, biasShape, json, HINT);
}

/** Reads and checks <path>; a missing or unparsable file is a BAD_OPTION naming it. */
export function readBiasJson(path: string): BiasJson {
  if (!existsSync(path)) throw new MassivitError('BAD_OPTION', `${path}: no such file`, 'Run `massivit bias --model <m> --images <dir> --out <dir>` first');
  const json = parseJsonFile(path, (why) => new MassivitError('BAD_OPTION', `${path} is not JSON: ${why}`, HINT));
  return checkBias(path, json);
}
