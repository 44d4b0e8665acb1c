/** The scan.json contract (documented in the README). Changing a field name is a breaking change. */
import type { DatasetSummary } from '../analyze/summary.js';
import type { ScanCriteria } from '../contracts/criteria.js';
import type { ModelSpec } from '../model/load.js';
import type { Family } from '../model/config.js';
import type { Precision } from '../model/precision.js';
import type { NormSummary } from '../analyze/norms.js';
import type { AttentionSummary } from '../analyze/attention.js';
import type { NonFiniteSummary } from '../analyze/non-finite.js';
import type { TokenLayout } from '../model/layout.js';

export const SCAN_JSON_VERSION = 1;

export interface ScanModelInfo {
  name: string;
  family: Family;
  numLayers: number;
  hiddenSize: number;
  numHeads: number;
  sequenceLength: number;
  tokens: { cls: number; registers: number[]; patchStart: number; patchGrid: [number, number] };
  inputSize: [number, number];
  patchSize: number;
  precision: Precision;
  sha256: string;
  /** Present for the project's synthetic demo/fixture models. */
  synthetic?: { note: string; planted?: unknown };
}

export interface ScanJson extends DatasetSummary {
  version: number;
  tool: { name: 'massivit'; version: string };
  model: ScanModelInfo;
  criteria: ScanCriteria & { topK: number };
  warnings: string[];
  shard?: { index: number; count: number }[];
  /**
   * Token L2 norms per layer (scan --norms, on by default; analyze/norms.ts). Shape:
   * { binEdges: number[49] (log-spaced, 8 per decade, 0.1 … 1e5), autoRule: string,
   *   layers: [{ layer, histogram: { patch: number[48], special: number[48] } (token counts per bin; special =
   *     CLS + registers; out-of-range norms in the end bins), meanNorm: { cls, registers | null, patches }, patchStd,
   *     fixed | auto: { threshold, share (of all patch tokens above), images (with ≥ 1 patch above),
   *       border | centre (share of outer-ring / inner patch tokens above, null if none), grid ([row][col] share of
   *       images with that patch above, null when nothing is above), cls (share of images), registers (share of
   *       register tokens, null without registers) } }] }
   * `fixed` uses --norm-threshold (150); `auto` uses mean + 3 sd of the layer's patch norms over the dataset.
   */
  norms?: NormSummary;
  /**
   * Attention sinks (scan --attention; analyze/attention.ts). Per image, S = tokens holding a massive or
   * near-miss cell at any layer. Shape:
   * { images, sinkKinds: { massive, near, none } (images by where S came from), sinkTokens: [token, images][],
   *   blocks: [{ block, layer (= block: the hidden state it reads), heads: [{ head, sinkShare, clsShare,
   *     registerShare | null, clsToSinkShare }], sinkShare, clsShare, registerShare | null (head means),
   *     baseline (mean |S| / tokens: the uniform share for S), tokenBaseline (1 / tokens),
   *     clsMap: [row][col] dataset-mean CLS → patch attention, head mean, registers dropped }],
   *   missing: [{ block, reason }] }
   * Shares are the attention mass (mean over queries, 0…1) a block's head gives to those tokens; sink shares
   * average over images with a non-empty S only.
   */
  attention?: AttentionSummary;
  /** Only when a hidden state held NaN or ±Inf (analyze/non-finite.ts); `layers[]` then carry `nonFinite` too. */
  nonFinite?: NonFiniteSummary;
}

export function modelInfo(spec: ModelSpec): ScanModelInfo {
  const t = spec.tokens;
  return {
    name: spec.name,
    family: spec.arch.family,
    numLayers: spec.arch.numLayers,
    hiddenSize: spec.arch.hiddenSize,
    numHeads: spec.arch.numHeads,
    sequenceLength: t.sequenceLength,
    tokens: { cls: t.cls, registers: t.registers, patchStart: t.patchStart, patchGrid: t.patchGrid },
    inputSize: [spec.preprocess.height, spec.preprocess.width],
    patchSize: spec.arch.patchSize,
    precision: spec.precision,
    sha256: spec.sha256,
    ...(spec.arch.synthetic ? { synthetic: spec.arch.synthetic } : {}),
  };
}

/** The layout object the analysis code expects, rebuilt from scan.json. */
export function layoutOf(scan: ScanJson): TokenLayout {
  const t = scan.model.tokens;
  return { cls: t.cls, registers: t.registers, patchStart: t.patchStart, patchGrid: t.patchGrid, sequenceLength: scan.model.sequenceLength };
}
