/**
 * Load a model folder (HF / transformers.js layout) or a bare .onnx into a `ModelSpec`: config,
 * preprocessing, token layout and the hook table. Every problem is reported here, before any image is read.
 */
import { createHash } from 'node:crypto';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { readRegularFile } from '../contracts/regular-file.js';
import { badModel, errorMessage } from '../contracts/errors.js';
import { findHooks, type HookTable } from './hook-table.js';
import { indexGraph } from './graph.js';
import { checkHeads, graphHeads } from './heads.js';
import { attnPattern } from '../contracts/hooks.js';
import { decodeModel, encodeModel, type ModelProto } from './onnx.js';
import { inlineExternalData } from './external-data.js';
import { parseArchConfig, type ArchConfig, type Family } from './config.js';
import { tokenLayout, type TokenLayout } from './layout.js';
import { patchKernel } from './patch.js';
import { detectPrecision, precisionWarning, type Precision } from './precision.js';
import { defaultPreprocessor, parsePreprocessor, type PreprocessSpec } from './preprocessor.js';

export interface ModelSpec {
  name: string;
  /** Folder holding config.json, or the .onnx's folder for a bare file. */
  dir: string;
  onnxPath: string;
  sha256: string;
  bytes: Uint8Array;
  arch: ArchConfig;
  preprocess: PreprocessSpec;
  tokens: TokenLayout;
  hooks: HookTable;
  inputName: string;
  outputNames: string[];
  precision: Precision;
  warnings: string[];
}

/** For a bare .onnx without config.json. */
interface BareModelOptions {
  family?: Family;
  registers?: number;
  patchSize?: number;
  imageSize?: number;
}

export interface LoadOptions extends BareModelOptions {
  /** ONNX file name inside the folder (e.g. model_fp16.onnx); default model.onnx / vision_model.onnx. */
  file?: string;
}

const CANDIDATES = ['model.onnx', 'onnx/model.onnx', 'vision_model.onnx', 'onnx/vision_model.onnx'];

/** Config files are a few kB; 16 MiB is far beyond any real one. */
const MAX_JSON_BYTES = 16 * 2 ** 20;
/** protobuf cannot hold a message of 2 GiB or more, so no single .onnx file is larger. */
const MAX_ONNX_BYTES = 2 ** 31;

function readJson(path: string): unknown {
  try {
    return JSON.parse(readRegularFile(path, MAX_JSON_BYTES, path).toString('utf8')) as unknown;
  } catch (err) {
    throw badModel(`Cannot read ${path}: ${errorMessage(err)}`, undefined, err);
  }
}

function readOnnx(path: string): Uint8Array {
  try {
    return new Uint8Array(readRegularFile(path, MAX_ONNX_BYTES, path));
  } catch (err) {
    throw badModel(`Cannot read ${path}: ${errorMessage(err)}`, undefined, err);
  }
}

function resolveFiles(path: string, file?: string): { dir: string; onnxPath: string } {
  if (!existsSync(path)) throw badModel(`Model not found: ${path}`);
  if (statSync(path).isFile()) {
    const parent = dirname(path);
    const dir = basename(parent) === 'onnx' && existsSync(join(dirname(parent), 'config.json')) ? dirname(parent) : parent;
    return { dir, onnxPath: path };
  }
  const names = file ? [file, `onnx/${file}`] : CANDIDATES;
  const found = names.map((n) => join(path, n)).find((p) => existsSync(p) && statSync(p).isFile());
  if (!found) throw badModel(`No ONNX file in ${path} (looked for ${names.join(', ')})`, 'Pass --model path/to/file.onnx, or massivit models pull <repo>');
  return { dir: path, onnxPath: found };
}

function bareArch(opts: BareModelOptions, hooks: HookTable): ArchConfig {
  return {
    family: opts.family ?? 'vit',
    numLayers: hooks.numBlocks,
    hiddenSize: 0, // filled from the graph by the probe
    numHeads: 0,
    patchSize: opts.patchSize ?? 16,
    imageSize: opts.imageSize ?? 224,
    numRegisters: opts.registers ?? 0,
  };
}

function decode(bytes: Uint8Array, path: string): ModelProto {
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (err) {
    // Exporters write ir_version (field 1, varint: byte 0x08) first; protobufjs reports a cut-off file as a
    // read past the end ("index out of range: a + b > size").
    const msg = errorMessage(err);
    const cut =
      bytes[0] !== 0x08 ? 'the file is not ONNX (it does not start with an ONNX model header)'
      : /index out of range/i.test(msg) ? 'the file looks truncated (an incomplete download or copy?)'
      : 'the file is corrupt';
    throw badModel(`${path} is not a valid ONNX file (protobuf decode failed: ${msg}): ${cut}`);
  }
  if (!model.graph || (model.graph.node ?? []).length === 0) throw badModel(`${path} is not a valid ONNX model: it has no graph nodes (corrupt, or not an ONNX file)`);
  checkExternalData(model, path);
  return model;
}

/** Bytes per element of the ONNX data types a weight can have (TensorProto.DataType). */
const ELEMENT_BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

/**
 * Large exports keep weights in side files (model.onnx_data). Each entry must name a regular file inside
 * the model's folder (after resolving links), other than the graph itself, with an offset and length that
 * fit the file and the tensor: anything else would fail deep inside ONNX Runtime, block, or read elsewhere.
 */
function checkExternalData(model: ModelProto, path: string): void {
  const folder = realpathSync(dirname(path));
  const self = realpathSync(path);
  const sizes = new Map<string, number>();
  for (const t of model.graph!.initializer ?? []) {
    if (t.dataLocation !== 1) continue; // TensorProto.DataLocation.EXTERNAL
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
  }
}

/** The 4-D float image input; refuses graphs without one. */
function imageInput(model: ModelProto): string {
  const inits = new Set((model.graph!.initializer ?? []).map((t) => t.name));
  const inputs = (model.graph!.input ?? []).filter((i) => !inits.has(i.name));
  const pixel = inputs.find((i) => i.name === 'pixel_values');
  if (pixel) return 'pixel_values';
  const names = inputs.map((i) => `'${i.name}'`).join(', ') || 'none';
  throw badModel(`The model's input is not 'pixel_values' (found ${names}): massivit scans image models exported like Hugging Face / optimum do`);
}

export function loadModel(path: string, opts: LoadOptions = {}): ModelSpec {
  const { dir, onnxPath } = resolveFiles(resolve(path), opts.file);
  const configPath = join(dir, 'config.json');
  const hasConfig = existsSync(configPath);
  const arch0 = hasConfig ? parseArchConfig(readJson(configPath)) : undefined;
  const fileBytes = readOnnx(onnxPath);
  const model = decode(fileBytes, onnxPath);
  const bytes = inlineExternalData(model, onnxPath) ? encodeModel(model) : fileBytes;
  const inputName = imageInput(model);
  let hooks: HookTable;
  try {
    hooks = findHooks(model);
  } catch (err) {
    throw badModel(`${onnxPath} does not look like a Vision Transformer: ${errorMessage(err)}`);
  }
  const kernel = patchKernel(model, inputName);
  const softmax = hooks.tensors.get(attnPattern(0));
  const heads = softmax ? graphHeads(indexGraph(model.graph!), model.graph!, softmax) : undefined;
  const bare = bareArch({ ...opts, patchSize: opts.patchSize ?? kernel }, hooks);
  const arch = arch0 ?? { ...bare, numHeads: heads ?? bare.numHeads };
  checkHeads(arch.numHeads, heads);
  if (arch.numLayers !== hooks.numBlocks) {
    throw badModel(`config.json says ${arch.numLayers} layers but the graph has ${hooks.numBlocks} transformer blocks`);
  }
  if (kernel !== undefined && kernel !== arch.patchSize) {
    throw badModel(`${arch0 ? 'config.json says' : '--patch-size is'} patch_size ${arch.patchSize} but the graph's patch embedding (Conv) has a ${kernel}×${kernel} kernel`);
  }
  const ppPath = join(dir, 'preprocessor_config.json');
  const preprocess = existsSync(ppPath) && hasConfig ? parsePreprocessor(readJson(ppPath), arch.family) : defaultPreprocessor(opts.imageSize ?? arch.imageSize, arch.family);
  const precision = detectPrecision(model);
  const warning = precisionWarning(precision);
  return {
    name: hasConfig ? basename(dir) : basename(onnxPath, '.onnx'),
    dir,
    onnxPath,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    bytes,
    arch,
    preprocess,
    tokens: tokenLayout(arch, preprocess.height, preprocess.width),
    hooks,
    inputName,
    outputNames: (model.graph!.output ?? []).map((o) => o.name ?? ''),
    precision,
    warnings: warning ? [warning] : [],
  };
}
