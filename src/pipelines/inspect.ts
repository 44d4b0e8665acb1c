/** What `models inspect` shows: the model as massivit sees it, checked by a probe forward pass. */
import { hookLayer } from '../contracts/hooks.js';
import { openRunner } from '../run/runner.js';
import { DEFAULT_CRITERIA } from '../contracts/criteria.js';
import type { ModelSpec } from '../model/load.js';

export interface ModelInspection {
  name: string;
  path: string;
  family: string;
  numLayers: number;
  hiddenSize: number;
  numHeads: number;
  patchSize: number;
  inputSize: [number, number];
  tokens: { sequenceLength: number; cls: number; registers: number[]; patchStart: number; patchGrid: [number, number] };
  preprocess: string;
  opset: number;
  precision: string;
  layerNorm: string;
  /** Hook name → ONNX tensor. */
  taps: Record<string, string>;
  missingTaps: Record<string, string>;
  /** Every block has its resid_post tap and the probe pass agreed with the config. */
  coversEveryBlock: boolean;
  warnings: string[];
  synthetic?: string;
}

export async function inspectModel(loaded: ModelSpec): Promise<ModelInspection> {
  const layers = Array.from({ length: loaded.arch.numLayers + 1 }, (_, i) => i);
  // Every layer's statistics graph is built and run once: a model the tap cannot handle fails here.
  const probe = await openRunner(loaded, { expose: [], reduce: { layers, attention: false, topK: 1, criteria: DEFAULT_CRITERIA } }, { device: 'cpu', threads: 1 });
  await probe.close();
  const spec = probe.spec; // a bare .onnx model's width, as the probe pass measured it
  const taps = Object.fromEntries(spec.hooks.tensors);
  const covered = Object.keys(taps).filter((h) => hookLayer(h) !== undefined && h.endsWith('resid_post')).length;
  const t = spec.tokens;
  const p = spec.preprocess;
  return {
    name: spec.name,
    path: spec.onnxPath,
    family: spec.arch.family,
    numLayers: spec.arch.numLayers,
    hiddenSize: spec.arch.hiddenSize,
    numHeads: spec.arch.numHeads,
    patchSize: spec.arch.patchSize,
    inputSize: [p.height, p.width],
    tokens: { sequenceLength: t.sequenceLength, cls: t.cls, registers: t.registers, patchStart: t.patchStart, patchGrid: t.patchGrid },
    preprocess: `${p.processor}: ${p.resize ? (p.resize.kind === 'exact' ? `resize ${p.resize.height}x${p.resize.width}` : `resize shortest edge ${p.resize.edge}`) : 'no resize'}${p.crop ? `, center crop ${p.crop.height}x${p.crop.width}` : ''}, ${p.resample}, mean ${p.mean.join('/')}, std ${p.std.join('/')}`,
    opset: spec.hooks.opset,
    precision: spec.precision,
    layerNorm: spec.hooks.layerNormKind,
    taps,
    missingTaps: Object.fromEntries(spec.hooks.missing),
    coversEveryBlock: covered === spec.arch.numLayers,
    warnings: spec.warnings,
    ...(spec.arch.synthetic ? { synthetic: spec.arch.synthetic.note } : {}),
  };
}

export function formatInspection(i: ModelInspection): string {
  const t = i.tokens;
  const lines = [
    `${i.name}  (${i.path})`,
    `  family        ${i.family}${i.synthetic ? '  [SYNTHETIC]' : ''}`,
    `  layers        ${i.numLayers} blocks, hidden ${i.hiddenSize}, ${i.numHeads} heads, patch ${i.patchSize}`,
    `  input         ${i.inputSize[0]}x${i.inputSize[1]}; ${i.preprocess}`,
    `  tokens        ${t.sequenceLength} = CLS@${t.cls} + ${t.registers.length} registers${t.registers.length ? ` @${t.registers.join(',')}` : ''} + ${t.patchGrid[0]}x${t.patchGrid[1]} patches from ${t.patchStart}`,
    `  graph         opset ${i.opset}, ${i.precision}, LayerNorm ${i.layerNorm}`,
    `  taps          ${Object.keys(i.taps).length} found; every block covered: ${i.coversEveryBlock ? 'yes' : 'NO'}`,
  ];
  for (const [hook, tensor] of Object.entries(i.taps)) lines.push(`    ${hook.padEnd(30)} ${tensor}`);
  for (const [hook, why] of Object.entries(i.missingTaps)) lines.push(`    ${hook.padEnd(30)} unavailable: ${why}`);
  for (const w of i.warnings) lines.push(`  warning: ${w}`);
  return lines.join('\n') + '\n';
}
