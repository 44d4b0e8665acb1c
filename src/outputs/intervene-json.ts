/**
 * The intervene.json contract (`massivit intervene`, documented in the README's intervene.json part):
 * its type, the modes and targets it names. Version 1; fields added since (target, layers, cells.tokens,
 * cells.list[].sd, results[].seed, rules) are optional, so a reader of the old fields reads new files.
 * The validating reader is file-shapes.ts's checkIntervene.
 */
import type { TokenRole } from '../model/layout.js';

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
