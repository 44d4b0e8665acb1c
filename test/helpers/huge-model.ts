/**
 * Builds, at test time, a copy of a tiny fixture whose weights live in external files and total more than
 * 2 GB: the fixture's own weights go to model.onnx_data, plus one huge float tensor in huge.bin (a sparse
 * file, so it costs no disk) that the forward pass reads four values of through a Gather whose indices
 * depend on the input (so no optimizer can fold it away) and adds (zeros) to the pixels.
 */
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, writeFileSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { DataType, decodeModel, encodeModel, type TensorProto } from '../../src/model/onnx.js';

function external(t: TensorProto, location: string, offset: number, length: number): void {
  t.externalData = [
    { key: 'location', value: location },
    { key: 'offset', value: String(offset) },
    { key: 'length', value: String(length) },
  ];
  t.dataLocation = 1;
  t.rawData = new Uint8Array(0);
}

/** Returns the total bytes of external weights written. `hugeElements` float32 values go to huge.bin. */
export function buildHugeExternalModel(source: string, dir: string, hugeElements: number): number {
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'preprocessor_config.json']) copyFileSync(join(source, f), join(dir, f));
  const model = decodeModel(readFileSync(join(source, 'model.onnx')));
  const graph = model.graph!;
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const t of graph.initializer ?? []) {
    const raw = t.rawData;
    if (!raw || raw.length < 1024) continue;
    chunks.push(Buffer.from(raw));
    external(t, 'model.onnx_data', offset, raw.length);
    offset += raw.length;
  }
  writeFileSync(join(dir, 'model.onnx_data'), Buffer.concat(chunks));
  const hugeBytes = hugeElements * 4;
  const fd = openSync(join(dir, 'huge.bin'), 'w');
  ftruncateSync(fd, hugeBytes); // a hole: reads as zeros, takes no blocks
  closeSync(fd);
  const huge: TensorProto = { name: 'test/huge', dims: [hugeElements], dataType: DataType.FLOAT };
  external(huge, 'huge.bin', 0, hugeBytes);
  graph.initializer!.push(huge);
  // indices = Shape(pixels) - Shape(pixels): four zeros only known at run time.
  const conv = graph.node!.find((n) => n.opType === 'Conv' && n.input![0] === 'pixel_values')!;
  graph.node!.unshift(
    { opType: 'Shape', input: ['pixel_values'], output: ['test/shape'], name: 'test/shape' },
    { opType: 'Sub', input: ['test/shape', 'test/shape'], output: ['test/idx'], name: 'test/sub' },
    { opType: 'Gather', input: ['test/huge', 'test/idx'], output: ['test/few'], name: 'test/gather' },
    { opType: 'ReduceSum', input: ['test/few'], output: ['test/zero'], name: 'test/sum', attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
    { opType: 'Add', input: ['pixel_values', 'test/zero'], output: ['test/pixels'], name: 'test/add' },
  );
  conv.input![0] = 'test/pixels';
  writeFileSync(join(dir, 'model.onnx'), encodeModel(model));
  return offset + hugeBytes;
}
