/**
 * Makes a DINOv2 fixture resizable at test time, as recent exports are: the fixture's exporter traced the
 * patch grid of its 40 px input as a constant [5, 5] target for the position-embedding Resize; here that
 * target is computed from the patch embedding's shape (Shape → Slice [2:4]), so the grid follows the input.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataType, decodeModel, encodeModel } from '../../src/model/onnx.js';

export function buildResizableModel(source: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'preprocessor_config.json']) copyFileSync(join(source, f), join(dir, f));
  const model = decodeModel(readFileSync(join(source, 'model.onnx')));
  const graph = model.graph!;
  const nodes = graph.node!;
  const resize = nodes.find((n) => n.opType === 'Resize')!;
  const concat = nodes.find((n) => n.output![0] === resize.input![3])!;
  const conv = nodes.find((n) => n.opType === 'Conv')!;
  const i64 = (name: string, v: number) => graph.initializer!.push({ name, dims: [1], dataType: DataType.INT64, rawData: new Uint8Array(new BigInt64Array([BigInt(v)]).buffer) });
  i64('test/two', 2);
  i64('test/four', 4);
  const at = nodes.indexOf(concat);
  nodes.splice(
    at,
    0,
    { opType: 'Shape', input: [conv.output![0]], output: ['test/grid_shape'], name: 'test/grid_shape' },
    { opType: 'Slice', input: ['test/grid_shape', 'test/two', 'test/four'], output: ['test/grid'], name: 'test/grid' },
  );
  concat.input![concat.input!.length - 1] = 'test/grid';
  writeFileSync(join(dir, 'model.onnx'), encodeModel(model));
  return dir;
}
