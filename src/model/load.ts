/**
 * Load a model folder (HF / transformers.js layout) or a bare .onnx into a `ModelSpec`: config,
 * preprocessing, token layout and the hook table. Every problem is reported here, before any image is read.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { readRegularFile } from '../contracts/regular-file.js';
import { badModel, errorMessage } from '../contracts/errors.js';
import { findHooks, type HookTable } from './hook-table.js';
import { indexGraph } from './graph.js';
import { checkHeads, graphHeads } from './heads.js';
import { attnPattern } from '../contracts/hooks.js';
import { DataType, decodeModel, encodeModel, type ModelProto, type ValueInfoProto } from './onnx.js';
import { atImageSize, checkResizable, freeInputSize } from './resolution.js';
import { externalDataOf, hashExternalData, type ExternalData } from './external-data.js';
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
  /**
   * SHA-256 of the .onnx file, then of each external weights file (name and content, streamed): any change
   * to what the model computes changes it.
   */
  sha256: string;
  /**
   * The .onnx file as read (its external weights stay in their files, see `externalData`); with
   * --image-size, re-encoded with a symbolic input height and width.
   */
  bytes: Uint8Array;
  /** Where the graph's external weights live; ONNX Runtime reads them from there (run/session.ts). */
  externalData?: ExternalData;
  /** Bytes of weights: the .onnx file plus its external weights (the memory a session needs for them). */
  weightBytes: number;
  arch: ArchConfig;
  preprocess: PreprocessSpec;
  tokens: TokenLayout;
  hooks: HookTable;
  inputName: string;
  /** Set when --image-size runs the model at another size than its config's: the probe names it on failure. */
  resizedTo?: number;
  /** Set when the graph takes float16 pixels (a half-precision export without float32 I/O). */
  inputType?: 'float16';
  /** The batch size the graph's input fixes (an export traced with batch 1), absent when it is dynamic. */
  fixedBatch?: number;
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
  return model;
}

/** The 4-D float image input; refuses graphs without one. */
function imageInput(model: ModelProto): ValueInfoProto & { name: 'pixel_values' } {
  const inits = new Set((model.graph!.initializer ?? []).map((t) => t.name));
  const inputs = (model.graph!.input ?? []).filter((i) => !inits.has(i.name));
  const pixel = inputs.find((i) => i.name === 'pixel_values');
  const type = pixel?.type?.tensorType?.elemType ?? DataType.FLOAT;
  if (pixel && type !== DataType.FLOAT && type !== DataType.FLOAT16) {
    throw badModel(`The model's input 'pixel_values' has the element type ${DataType[type] ?? type}: massivit feeds float32 or float16 pixels`);
  }
  if (pixel) return pixel as ValueInfoProto & { name: 'pixel_values' };
  const names = inputs.map((i) => `'${i.name}'`).join(', ') || 'none';
  throw badModel(`The model's input is not 'pixel_values' (found ${names}): massivit scans image models exported like Hugging Face / optimum do`);
}

/** The .onnx bytes alone for a single-file model (the hash stores have always recorded), then the side files. */
function modelHash(bytes: Uint8Array, external: ExternalData | undefined): string {
  const hash = createHash('sha256').update(bytes);
  return (external ? hashExternalData(hash, external) : hash).digest('hex');
}

/** The input's size along `axis` when the export fixed it (dim_value), undefined when it is symbolic. */
function fixedDim(input: ValueInfoProto, axis: number): number | undefined {
  const dim = input.type?.tensorType?.shape?.dim?.[axis];
  const value = dim?.dimValue === undefined || dim.dimValue === null ? 0 : Number(dim.dimValue);
  return value > 0 ? value : undefined;
}

export function loadModel(path: string, opts: LoadOptions = {}): ModelSpec {
  const { dir, onnxPath } = resolveFiles(resolve(path), opts.file);
  const configPath = join(dir, 'config.json');
  const hasConfig = existsSync(configPath);
  const arch0 = hasConfig ? parseArchConfig(readJson(configPath)) : undefined;
  const bytes = readOnnx(onnxPath);
  const model = decode(bytes, onnxPath);
  const externalData = externalDataOf(model, onnxPath);
  const input = imageInput(model);
  const inputName = input.name;
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
  let preprocess = existsSync(ppPath) && hasConfig ? parsePreprocessor(readJson(ppPath), arch.family) : defaultPreprocessor(opts.imageSize ?? arch.imageSize, arch.family);
  let graphBytes = bytes;
  let resizedTo: number | undefined;
  // --image-size other than the size the model was made for (its config's, or the size a bare graph's input
  // fixes): the recipe is kept at the new size, and the graph's input height / width become symbolic (the
  // runner's probe then checks the graph follows).
  const made = hasConfig ? preprocess.height : fixedDim(input, 2); // square exports: the height
  if (opts.imageSize !== undefined && made !== undefined && opts.imageSize !== made) {
    checkResizable(model, arch, opts.imageSize, onnxPath);
    if (hasConfig) preprocess = atImageSize(preprocess, opts.imageSize);
    resizedTo = opts.imageSize;
    if (freeInputSize(model, inputName)) graphBytes = encodeModel(model); // weights too, unless external: one copy
  }
  const precision = detectPrecision(model);
  const fixedBatch = fixedDim(input, 0);
  const warning = precisionWarning(precision);
  return {
    name: hasConfig ? basename(dir) : basename(onnxPath, '.onnx'),
    dir,
    onnxPath,
    sha256: modelHash(bytes, externalData),
    bytes: graphBytes,
    ...(externalData ? { externalData } : {}),
    weightBytes: bytes.length + (externalData?.bytes ?? 0),
    arch: hasConfig && opts.imageSize !== undefined ? { ...arch, imageSize: opts.imageSize } : arch,
    preprocess,
    tokens: tokenLayout(arch, preprocess.height, preprocess.width),
    hooks,
    inputName,
    ...(fixedBatch !== undefined ? { fixedBatch } : {}),
    ...(resizedTo !== undefined ? { resizedTo } : {}),
    ...(input.type?.tensorType?.elemType === DataType.FLOAT16 ? { inputType: 'float16' as const } : {}),
    outputNames: (model.graph!.output ?? []).map((o) => o.name ?? ''),
    precision,
    warnings: warning ? [warning] : [],
  };
}
