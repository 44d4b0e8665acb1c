/**
 * The documented shape of scan.json (README "Output format"), as checks (validate.ts). readScanJson applies
 * it before any report, comparison or map uses a field, so a hostile scan folder fails with the field's path.
 */
import type { ActivationGroup, LayerSummary, OutlierFeature } from '../analyze/summary.js';
import type { NormLayer, NormSummary, ThresholdStats } from '../analyze/norms.js';
import type { AttentionSummary, BlockSummary, HeadSummary } from '../analyze/attention.js';
import type { LayerNonFinite, NonFiniteCounts, NonFiniteSummary } from '../analyze/non-finite.js';
import { FAMILIES } from '../model/config.js';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SUMMARY_FILE } from '../contracts/files.js';
import { MassivitError } from '../contracts/errors.js';
import { SCAN_JSON_VERSION, type ScanJson, type ScanModelInfo } from './scan-json.js';
import { checkFile, anything, count, finite, list, measure, nullable, oneOf, optional, parseJsonFile, record, text, tuple, type Check } from './validate.js';

/** A measured value the type declares as a number: null (JSON's NaN) is still accepted and shown as "–". */
const num = measure as Check<number>;
const span = record<{ firstLayer: number | null; lastLayer: number | null }>({ firstLayer: nullable(count), lastLayer: nullable(count) });
const pair = tuple<[number, number]>(count, count);
const errors = list(record<{ path: string; reason: string }>({ path: text, reason: text }));

const model = record<ScanModelInfo>({
  name: text,
  family: oneOf(...FAMILIES),
  numLayers: count,
  hiddenSize: count,
  numHeads: count,
  sequenceLength: count,
  tokens: record<ScanModelInfo['tokens']>({ cls: count, registers: list(count), patchStart: count, patchGrid: pair }),
  inputSize: pair,
  patchSize: count,
  precision: oneOf('fp32', 'fp16', 'bf16', 'int8', 'int4', 'mixed'),
  sha256: text,
  synthetic: optional(record<NonNullable<ScanModelInfo['synthetic']>>({ note: text, planted: anything })),
});

const nonFiniteCounts = record<NonFiniteCounts>({ nan: count, posInf: count, negInf: count });

const layer = record<LayerSummary>({
  layer: count,
  top1: num,
  top2: num,
  top3: num,
  median: num,
  imagesWithMassive: count,
  imagesWithNearMiss: count,
  nonFinite: optional(record<LayerNonFinite>({ images: count, nan: count, posInf: count, negInf: count })),
});

const group = record<ActivationGroup>({
  layer: count,
  dim: count,
  role: oneOf('cls', 'register', 'patch'),
  token: count,
  position: optional(pair),
  images: count,
  meanValue: num,
  minAbs: num,
  maxAbs: num,
  meanRatio: num,
  tokens: list(pair),
});

const outlier = record<OutlierFeature>({ layer: count, dim: count, images: count, meanTokens: num });

const grid = nullable(list(list(measure)));
const threshold = record<ThresholdStats>({
  threshold: num,
  share: num,
  images: count,
  border: measure,
  centre: measure,
  grid: grid as Check<number[][] | null>,
  cls: num,
  registers: measure,
});

const norms = record<NormSummary>({
  binEdges: list(finite),
  autoRule: text,
  layers: list(
    record<NormLayer>({
      layer: count,
      histogram: record<NormLayer['histogram']>({ patch: list(count), special: list(count) }),
      meanNorm: record<NormLayer['meanNorm']>({ cls: num, registers: measure, patches: num }),
      patchStd: num,
      fixed: threshold,
      auto: threshold,
    }),
  ),
});

const head = record<HeadSummary>({
  head: count,
  sinkShare: num,
  clsShare: num,
  registerShare: measure,
  clsToSinkShare: num,
});

const attention = record<AttentionSummary>({
  images: count,
  sinkKinds: record<AttentionSummary['sinkKinds']>({ massive: count, near: count, none: count }),
  sinkTokens: list(pair),
  blocks: list(
    record<BlockSummary>({
      block: count,
      layer: count,
      heads: list(head),
      sinkShare: num,
      clsShare: num,
      registerShare: measure,
      baseline: num,
      tokenBaseline: num,
      clsMap: list(list(measure)) as Check<number[][]>,
    }),
  ),
  missing: list(record<{ block: number; reason: string }>({ block: count, reason: text })),
});

const nonFinite = record<NonFiniteSummary>({ firstLayer: count, lastLayer: count, images: count, cells: nonFiniteCounts });

/** Every documented field of scan.json; `version` is checked first by readScanJson. */
const scanJsonShape: Check<ScanJson> = record<ScanJson>({
  version: count,
  tool: record<ScanJson['tool']>({ name: oneOf('massivit'), version: text }),
  model,
  criteria: record<ScanJson['criteria']>({
    absThreshold: finite,
    ratioThreshold: finite,
    nearMissFactor: finite,
    outlierRatio: finite,
    outlierShare: finite,
    topK: count,
  }),
  images: record<ScanJson['images']>({ scanned: count, failed: count, errors }),
  layers: list(layer),
  massive: list(group),
  nearMisses: list(group),
  outlierFeatures: list(outlier),
  emergence: span,
  nearMissEmergence: span,
  nonFinite: optional(nonFinite),
  warnings: list(text),
  shard: optional(list(record<{ index: number; count: number }>({ index: count, count: count }))),
  norms: optional(norms),
  attention: optional(attention),
});

/** Sanity bounds for a received scan.json (a ViT-g at 518 px has 1,370 tokens and 40 layers). */
const MAX_TOKENS = 1 << 20;
const MAX_LAYERS = 4096;

/** The one reader of scan.json: checks the version and the fields every consumer relies on. */
export function readScanJson(dir: string): ScanJson {
  const path = join(resolve(dir), SUMMARY_FILE);
  if (!existsSync(path)) {
    throw new MassivitError('BAD_OUTPUT', `${dir} holds no ${SUMMARY_FILE}: not a finished scan folder`, 'Pass the --out folder of a `massivit scan` run');
  }
  const json = parseJsonFile(path, (why) => new MassivitError('BAD_OUTPUT', `Cannot read ${path}: ${why}`));
  if ((json as Partial<ScanJson> | null)?.version !== SCAN_JSON_VERSION) {
    throw new MassivitError('BAD_OUTPUT', `${path} is not a scan.json of version ${SCAN_JSON_VERSION}`, 'Re-run the scan with this version of massivit');
  }
  // Scan folders travel between people: every documented field is checked before any of it is used.
  const scan = checkFile(`${path}`, scanJsonShape, json, 'The scan folder was edited or damaged; re-run the scan');
  checkLayout(path, scan);
  return scan;
}

/** Indices the reports use to index arrays and size grids must agree with the model: a bad one is a damaged file. */
function checkLayout(path: string, scan: ScanJson): void {
  const { sequenceLength: T, hiddenSize: D, numLayers: L, tokens } = scan.model;
  const fail = (field: string, rule: string, v: unknown) => new MassivitError('BAD_OUTPUT', `${path}: ${field} must be ${rule}, found ${String(v)}`, 'The scan folder was edited or damaged; re-run the scan');
  const below = (field: string, v: number, limit: number, name: string) => {
    if (v >= limit) throw fail(field, `below ${name} (${limit})`, v);
  };
  if (T > MAX_TOKENS) throw fail('model.sequenceLength', `at most ${MAX_TOKENS}`, T);
  if (L > MAX_LAYERS) throw fail('model.numLayers', `at most ${MAX_LAYERS}`, L);
  below('model.tokens.cls', tokens.cls, T, 'model.sequenceLength');
  tokens.registers.forEach((r, i) => below(`model.tokens.registers[${i}]`, r, T, 'model.sequenceLength'));
  const [rows, cols] = tokens.patchGrid;
  if (tokens.patchStart + rows * cols !== T) throw fail('model.tokens.patchGrid', `rows × cols = model.sequenceLength − model.tokens.patchStart (${T - tokens.patchStart})`, `${rows} × ${cols}`);
  scan.layers.forEach((l, i) => below(`layers[${i}].layer`, l.layer, L + 1, 'model.numLayers + 1'));
  for (const key of ['massive', 'nearMisses'] as const) {
    scan[key].forEach((g, i) => {
      below(`${key}[${i}].layer`, g.layer, L + 1, 'model.numLayers + 1');
      below(`${key}[${i}].dim`, g.dim, D, 'model.hiddenSize');
      below(`${key}[${i}].token`, g.token, T, 'model.sequenceLength');
      g.tokens.forEach(([t], j) => below(`${key}[${i}].tokens[${j}][0]`, t, T, 'model.sequenceLength'));
      if (g.position) below(`${key}[${i}].position[0]`, g.position[0], rows, 'the patch rows');
      if (g.position) below(`${key}[${i}].position[1]`, g.position[1], cols, 'the patch columns');
    });
  }
}
