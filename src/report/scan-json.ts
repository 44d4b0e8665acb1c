/** The scan.json contract (documented in the README). Changing a field name is a breaking change. */
import type { DatasetSummary } from '../analyze/summary.js';
import type { ScanCriteria } from '../analyze/criteria.js';
import type { ModelSpec } from '../model/load.js';
import type { Family } from '../model/config.js';
import type { Precision } from '../model/precision.js';

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
