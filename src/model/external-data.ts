/**
 * Exports over ~2 GB (and some smaller ones) keep their weights in side files (`model.onnx_data`). The
 * weights stay there: the tapped graph keeps its references and ONNX Runtime reads them from the model's
 * folder (run/session.ts), so no size limit comes from protobuf and no weight passes through JS memory.
 */
import type { Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ModelProto } from './onnx.js';

const EXTERNAL = 1; // TensorProto.DataLocation.EXTERNAL

export interface ExternalData {
  /** The folder the `location` entries are relative to (the .onnx file's folder). */
  dir: string;
  /** The side files, relative to `dir`, in the order the graph first names them. */
  files: string[];
  /** Bytes of weights the graph reads from them. */
  bytes: number;
}

/** The side files a graph reads its weights from; undefined when every weight is inside the graph. */
export function externalDataOf(model: ModelProto, onnxPath: string): ExternalData | undefined {
  const files: string[] = [];
  let bytes = 0;
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataLocation !== EXTERNAL) continue;
    const entry = (key: string) => (t.externalData ?? []).find((e) => e.key === key)?.value;
    const location = entry('location')!; // load.ts checked every entry
    if (!files.includes(location)) files.push(location);
    bytes += Number(entry('length') ?? 0);
  }
  return files.length === 0 ? undefined : { dir: dirname(onnxPath), files, bytes };
}

/** 16 MiB reads: hashing GBs of weights costs disk time, never more than this much memory. */
const CHUNK = 16 * 2 ** 20;

/** Feeds each side file, whole, to `hash` (read in chunks, so a 4 GB file never sits in memory). */
export function hashExternalData(hash: Hash, data: ExternalData): Hash {
  const buffer = Buffer.allocUnsafe(CHUNK);
  for (const file of data.files) {
    hash.update(`\0${file}\0`); // the name too: the same bytes under another name are another model
    const fd = openSync(join(data.dir, file), 'r');
    try {
      for (let n; (n = readSync(fd, buffer, 0, CHUNK, null)) > 0; ) hash.update(buffer.subarray(0, n));
    } finally {
      closeSync(fd);
    }
  }
  return hash;
}

