/**
 * Converts a float32 fixture to fp16 at test time, as onnxconverter's float16 conversion does without
 * keep_io_types: every float initializer, Constant and Cast becomes float16, and so do the pixel input and
 * the outputs. `plant` writes chosen values into an initializer before the conversion (70000 overflows to Inf).
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHalf } from '../../src/run/half.js';
import { DataType, decodeModel, encodeModel, type TensorProto } from '../../src/model/onnx.js';

function floats(t: TensorProto): Float32Array {
  if (t.rawData && t.rawData.length > 0) return new Float32Array(new Uint8Array(t.rawData).slice().buffer);
  return Float32Array.from(t.floatData ?? []);
}

function toFp16(t: TensorProto, plant?: (name: string, values: Float32Array) => void): void {
  if (t.dataType !== DataType.FLOAT) return;
  const values = floats(t);
  plant?.(t.name ?? '', values);
  t.rawData = new Uint8Array(toHalf(values).buffer);
  t.floatData = [];
  t.dataType = DataType.FLOAT16;
}

export function buildHalfModel(source: string, dir: string, plant?: (name: string, values: Float32Array) => void): string {
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'preprocessor_config.json']) copyFileSync(join(source, f), join(dir, f));
  const model = decodeModel(readFileSync(join(source, 'model.onnx')));
  const graph = model.graph!;
  for (const t of graph.initializer ?? []) toFp16(t, plant);
  for (const n of graph.node ?? []) {
    for (const a of n.attribute ?? []) {
      if (a.t) toFp16(a.t);
      if (n.opType === 'Cast' && a.name === 'to' && Number(a.i) === DataType.FLOAT) a.i = DataType.FLOAT16;
    }
  }
  for (const io of [...(graph.input ?? []), ...(graph.output ?? [])]) {
    if (io.type?.tensorType?.elemType === DataType.FLOAT) io.type.tensorType.elemType = DataType.FLOAT16;
  }
  graph.valueInfo = []; // ORT infers the (now float16) intermediate types
  writeFileSync(join(dir, 'model.onnx'), encodeModel(model));
  return dir;
}
