/**
 * The bias.json contract (`massivit bias`, documented in the README): the explicit-attention-bias test
 * of one model. One type, one reader that validates, so the report and any script read it the same way.
 * Changing a field's name or meaning is a breaking change: bump BIAS_JSON_VERSION and say what changed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { MassivitError, errorMessage } from '../errors.js';

export const BIAS_FILE = 'bias.json';
export const BIAS_HTML = 'bias.html';
export const BIAS_JSON_VERSION = 1;

/**
 * The runs compared with the unmodified model. `bias + zero` and `bias only` use one slot (the sinks'
 * mean key and value, offset log S); `per-sink bias + zero` one slot per sink token (its own mean,
 * offset 0), only when there are two sinks or more.
 */
export type BiasVariant = 'original' | 'zero' | 'mean' | 'bias + zero' | 'per-sink bias + zero' | 'bias only';
export const BIAS_VARIANTS: readonly BiasVariant[] = ['original', 'zero', 'mean', 'bias + zero', 'per-sink bias + zero', 'bias only'];

export interface BiasShare {
  block: number;
  /** Mean over images, heads and queries of the attention on the sink tokens (their positions). */
  sinks: number;
  /** ... and on the extra slots together (0 when they have no weight). */
  slot: number;
}

export interface BiasResult {
  variant: BiasVariant;
  /** Classifiers: share of images whose top-1 class is that of the unmodified model. */
  top1Agreement: number | null;
  /** Classifiers: KL(original ‖ variant) of the class distribution in nats, mean and max over images. */
  meanKL: number | null;
  maxKL: number | null;
  /** Cosine of the output embedding to the original, mean and min over images. */
  cosine: { mean: number; min: number };
  /** Attention shares averaged over the biased blocks, and per block. */
  sinkShare: number;
  slotShare: number;
  perBlock: BiasShare[];
}

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
    /** Added to the slot's scores: log(number of sink tokens), so one slot weighs as the sinks together when their keys agree. */
    logit: number;
    /** Per block: the L2 norm of k′ and v′ over all heads (what was added, in size). */
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

const fail = (path: string, why: string): never => {
  throw new MassivitError('BAD_OPTION', `${path} is not a bias.json of version ${BIAS_JSON_VERSION}: ${why}`, 'Pass the bias.json written by `massivit bias --out <dir>`');
};

const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const isNumOrNull = (v: unknown) => v === null || isNum(v);

/** Reads and validates a bias.json; any problem is one BAD_OPTION line naming the file and the field. */
export function readBiasJson(path: string): BiasJson {
  if (!existsSync(path)) throw new MassivitError('BAD_OPTION', `${path}: no such file`, 'Run `massivit bias --model <m> --images <dir> --out <dir>` first');
  let j: BiasJson;
  try {
    j = JSON.parse(readFileSync(path, 'utf8')) as BiasJson;
  } catch (err) {
    return fail(path, errorMessage(err));
  }
  if (j === null || typeof j !== 'object') return fail(path, 'not a JSON object');
  if (j.version !== BIAS_JSON_VERSION) fail(path, `version is ${JSON.stringify(j.version)}`);
  if (typeof j.model?.name !== 'string' || typeof j.model?.sha256 !== 'string' || !['classifier', 'features'].includes(j.model?.kind)) fail(path, 'model');
  if (!Number.isInteger(j.layer) || j.layer < 0) fail(path, 'layer');
  if (!Array.isArray(j.sinks?.tokens) || !Array.isArray(j.sinks?.cells) || !['massive cells', 'register tokens'].includes(j.sinks?.removal)) fail(path, 'sinks');
  if (!Array.isArray(j.blocks) || !j.blocks.every((b) => Number.isInteger(b))) fail(path, 'blocks');
  if (!isNum(j.slot?.logit) || !Array.isArray(j.slot?.norms)) fail(path, 'slot');
  if (!isNum(j.images?.used) || !Array.isArray(j.images?.errors)) fail(path, 'images');
  if (!isNumOrNull(j.recovered)) fail(path, 'recovered');
  if (!Array.isArray(j.results) || j.results.length === 0) fail(path, 'results');
  for (const r of j.results) {
    if (!BIAS_VARIANTS.includes(r?.variant)) fail(path, `results: variant ${JSON.stringify(r?.variant)}`);
    const ok = isNumOrNull(r.top1Agreement) && isNumOrNull(r.meanKL) && isNumOrNull(r.maxKL) && isNum(r.cosine?.mean) && isNum(r.cosine?.min) && isNum(r.sinkShare) && isNum(r.slotShare) && Array.isArray(r.perBlock);
    if (!ok) fail(path, `results: the '${r.variant}' row`);
  }
  return j;
}
