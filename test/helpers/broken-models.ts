/**
 * Broken and awkward models, built at test time from the small fixtures (nothing binary is committed):
 * cut-off and random files, a CNN, configs that disagree with their graph, a renamed input, missing or
 * escaping external weights, and an int8-quantized ViT (weights as int8 + DequantizeLinear, the layout
 * onnxruntime's dynamic quantization writes for MatMul weights).
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataType, decodeModel, encodeModel, type ModelProto, type TensorProto } from '../../src/model/onnx.js';
import { fixtureModel } from './env.js';
import { noise } from './hostile-images.js';

export function copyFixture(name: string, to: string): string {
  cpSync(fixtureModel(name), to, { recursive: true });
  return to;
}

export function editConfig(dir: string, edit: (cfg: Record<string, unknown>) => void): string {
  const path = join(dir, 'config.json');
  const cfg = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(cfg);
  writeFileSync(path, JSON.stringify(cfg, null, 2));
  return dir;
}

export function editGraph(dir: string, edit: (model: ModelProto) => void): string {
  const path = join(dir, 'model.onnx');
  const model = decodeModel(readFileSync(path));
  edit(model);
  writeFileSync(path, encodeModel(model));
  return dir;
}

export function truncatedOnnx(dir: string): string {
  const bytes = readFileSync(join(fixtureModel('tiny-vit-op14'), 'model.onnx'));
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'truncated.onnx');
  writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
  return path;
}

export function randomOnnx(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'random.onnx');
  writeFileSync(path, noise(20_000, 777));
  return path;
}

/** Renames the image input everywhere it is read (as a timm or hand export might name it). */
export function renameInput(model: ModelProto, to: string): void {
  const graph = model.graph!;
  const from = graph.input![0].name!;
  graph.input![0].name = to;
  for (const node of graph.node ?? []) node.input = (node.input ?? []).map((i) => (i === from ? to : i));
}

function floats(t: TensorProto): Float32Array {
  if (t.rawData && t.rawData.length > 0) {
    const copy = Uint8Array.from(t.rawData);
    return new Float32Array(copy.buffer, 0, copy.length / 4);
  }
  return Float32Array.from(t.floatData ?? []);
}

/** Per-tensor symmetric int8 quantization of every MatMul weight, dequantized in-graph. */
export function quantizeMatMulWeights(model: ModelProto): number {
  const graph = model.graph!;
  const inits = new Map((graph.initializer ?? []).map((t) => [t.name!, t]));
  const weights = new Set((graph.node ?? []).filter((n) => n.opType === 'MatMul').map((n) => n.input![1]).filter((w) => inits.get(w)?.dataType === DataType.FLOAT));
  const dequant = [];
  for (const name of weights) {
    const t = inits.get(name)!;
    const w = floats(t);
    const scale = Math.max(...w.map(Math.abs)) / 127 || 1;
    const q = Int8Array.from(w, (v) => Math.round(v / scale));
    graph.initializer!.push(
      { name: `${name}/q`, dims: t.dims, dataType: DataType.INT8, rawData: new Uint8Array(q.buffer) },
      { name: `${name}/scale`, dims: [], dataType: DataType.FLOAT, rawData: new Uint8Array(Float32Array.of(scale).buffer) },
      { name: `${name}/zero`, dims: [], dataType: DataType.INT8, rawData: new Uint8Array(1) },
    );
    dequant.push({ opType: 'DequantizeLinear', name: `${name}/dequantize`, input: [`${name}/q`, `${name}/scale`, `${name}/zero`], output: [name] });
  }
  graph.initializer = graph.initializer!.filter((t) => !weights.has(t.name!));
  graph.node = [...dequant, ...(graph.node ?? [])];
  return weights.size;
}

/** Marks the largest initializer as stored in an external file at `location` (which does not exist). */
export function externalWeights(model: ModelProto, location: string): void {
  const inits = model.graph!.initializer!;
  const t = inits.reduce((a, b) => ((a.rawData?.length ?? 0) >= (b.rawData?.length ?? 0) ? a : b));
  const length = t.rawData!.length;
  t.rawData = new Uint8Array(0);
  t.dataLocation = 1; // EXTERNAL
  t.externalData = [
    { key: 'location', value: location },
    { key: 'offset', value: '0' },
    { key: 'length', value: String(length) },
  ];
}
