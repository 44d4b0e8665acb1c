/**
 * Exports over ~2 GB (and some smaller ones) keep their weights in side files (`model.onnx_data`). The tap
 * rewrites the graph in memory and ONNX Runtime then loads it from bytes, where a relative side-file path
 * has no folder to resolve against, so the weights are read into the graph here instead.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { badModel } from '../contracts/errors.js';
import type { ModelProto } from './onnx.js';

const EXTERNAL = 1; // TensorProto.DataLocation.EXTERNAL
/** protobuf cannot encode a message of 2 GiB or more; keep a margin for the graph itself. */
const MAX_INLINE_BYTES = 2 ** 31 - 64 * 2 ** 20;

/** Replaces external initializers by their bytes; returns false when the model has none. */
export function inlineExternalData(model: ModelProto, onnxPath: string): boolean {
  const tensors = (model.graph?.initializer ?? []).filter((t) => t.dataLocation === EXTERNAL);
  if (tensors.length === 0) return false;
  let total = 0;
  const fds = new Map<string, number>();
  try {
    for (const t of tensors) {
      const entry = (key: string) => (t.externalData ?? []).find((e) => e.key === key)?.value;
      const location = entry('location')!;
      const offset = Number(entry('offset') ?? 0);
      const length = Number(entry('length') ?? Number.NaN);
      if (!Number.isFinite(length)) throw badModel(`${onnxPath}: external tensor '${t.name}' has no length`);
      total += length;
      if (total > MAX_INLINE_BYTES) {
        throw badModel(`${onnxPath} keeps more than 2 GB of weights in external files: not supported yet (the graph is rewritten in memory)`, 'Use a smaller or fp32 single-file export');
      }
      let fd = fds.get(location);
      if (fd === undefined) {
        fd = openSync(join(dirname(onnxPath), location), 'r');
        fds.set(location, fd);
      }
      const data = new Uint8Array(length);
      if (readSync(fd, data, 0, length, offset) !== length) throw badModel(`${onnxPath}: external file '${location}' is shorter than tensor '${t.name}' needs`);
      t.rawData = data;
      t.dataLocation = 0;
      t.externalData = [];
    }
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }
  return true;
}
