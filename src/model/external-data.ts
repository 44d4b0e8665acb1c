/**
 * Exports over ~2 GB (and some smaller ones) keep their weights in side files (`model.onnx_data`). The
 * weights stay there: the tapped graph keeps its references and ONNX Runtime reads them from the model's
 * folder (run/session.ts), so no size limit comes from protobuf and no weight passes through JS memory.
 */
import type { Hash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { badModel } from '../contracts/errors.js';
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

/** Bytes per element of the ONNX data types a weight can have (TensorProto.DataType). */
const ELEMENT_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

/**
 * Large exports keep weights in side files (model.onnx_data). Each entry must name a regular file inside
 * the model's folder (after resolving links), other than the graph itself, with an offset and length that
 * fit the file and the tensor: anything else would fail deep inside ONNX Runtime, block, or read elsewhere.
 * Returns the side files the graph reads its weights from; undefined when every weight is inside the graph.
 */
export function externalDataOf(model: ModelProto, path: string): ExternalData | undefined {
  const folder = realpathSync(dirname(path));
  const self = realpathSync(path);
  const sizes = new Map<string, number>(); // side file → its size, in the order the graph first names them
  let bytes = 0;
  for (const t of model.graph!.initializer ?? []) {
    if (t.dataLocation !== EXTERNAL) continue;
    const entry = (key: string) => (t.externalData ?? []).find((e) => e.key === key)?.value;
    const f = entry('location') ?? '';
    const bad = (why: string, hint?: string) => badModel(`${path}: external weights of tensor '${t.name}' ${why}`, hint);
    if (f === '' || f === '.') throw badModel(`${path} names an empty external weights location ('${f}') for tensor '${t.name}': refused`);
    if (isAbsolute(f) || f.split(/[\\/]/).includes('..')) throw badModel(`${path} names an external weights file outside its folder ('${f}'): refused`);
    let size = sizes.get(f);
    if (size === undefined) {
      const target = join(dirname(path), f);
      if (!existsSync(target)) throw badModel(`${path} keeps its weights in the external file '${f}', which is missing next to it`, 'Download the .onnx together with its _data file');
      const real = realpathSync(target);
      const rel = relative(folder, real);
      if (rel.startsWith('..') || isAbsolute(rel)) throw badModel(`${path} names an external weights file outside its folder ('${f}' links to ${real}): refused`);
      if (real === self) throw badModel(`${path} names itself as its external weights file ('${f}'): refused`);
      const st = statSync(real);
      if (!st.isFile()) throw badModel(`${path} names an external weights file '${f}' that is not a regular file: refused`);
      sizes.set(f, (size = st.size));
    }
    const offset = Number(entry('offset') ?? 0);
    const length = Number(entry('length') ?? Number.NaN);
    const elem = ELEMENT_BYTES[t.dataType ?? 0];
    const expected = elem === undefined ? undefined : (t.dims ?? []).reduce((n: number, d) => n * Number(d), elem);
    if (!Number.isSafeInteger(offset) || offset < 0) throw bad(`have the offset ${entry('offset')}: expected a non-negative integer`);
    if (!Number.isSafeInteger(length) || length < 0) throw bad(`have the length ${entry('length') ?? '(none)'}: expected a non-negative integer`);
    if (expected !== undefined && length !== expected) throw bad(`have the length ${length}, but its shape and type need ${expected} bytes`);
    if (offset + length > size) throw bad(`run past the end of '${f}' (${offset} + ${length} > ${size} bytes)`);
    bytes += length;
  }
  return sizes.size === 0 ? undefined : { dir: dirname(path), files: [...sizes.keys()], bytes };
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

