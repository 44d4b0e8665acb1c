/**
 * The neurons file `registers find` writes and `registers add` reads: its type, its writer
 * and the ONE reader that validates it (a hand-edited or foreign file fails with a one-line BAD_OPTION naming the field).
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../contracts/atomic.js';
import { readRegularFile } from '../contracts/regular-file.js';
import { MassivitError, errorMessage } from '../contracts/errors.js';
import type { LayerNormStats } from '../analyze/registers/outliers.js';

export const NEURONS_FILE_KIND = 'massivit-register-neurons';
export const NEURONS_FILE = 'register-neurons.json';

export interface RegisterNeuron {
  /** 0-based block whose MLP holds the neuron (`blocks.{block}.mlp.hook_post`). */
  block: number;
  index: number;
  /** Which extreme the register takes: +1 the maximum, −1 the minimum. */
  sign: 1 | -1;
  atOutliers: number;
  elsewhere: number;
  /** atOutliers / elsewhere; null when the neuron is exactly 0 elsewhere. */
  ratio: number | null;
}

export interface NeuronsFile {
  kind: typeof NEURONS_FILE_KIND;
  version: 1;
  tool: { name: 'massivit'; version: string };
  model: { name: string; family: string; sha256: string; numBlocks: number };
  images: { dir: string; used: number; failed: number };
  detection: {
    /** hidden_states index whose patch norms define the outliers. */
    layer: number;
    layerSource: string;
    threshold: number;
    thresholdSource: string;
    minRatio: number;
    outliers: number;
    patchesPerImage: number;
    byPatch: { patch: number; position: [number, number]; count: number }[];
    layers: LayerNormStats[];
  };
  selection: { rule: string; requested: number | 'auto'; k: number; massShare: number; candidates: number };
  neurons: RegisterNeuron[];
}

const MAX_BYTES = 64 * 2 ** 20;

function fail(path: string, what: string): never {
  throw new MassivitError('BAD_OPTION', `--neurons ${path}: ${what}`, 'Pass a file written by `massivit registers find`');
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, lo: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo;

/** Reads and validates a neurons file; returns it with the sha256 of its bytes. */
export function readNeuronsFile(path: string): { file: NeuronsFile; sha256: string } {
  let bytes: Buffer;
  let raw: unknown;
  try {
    bytes = readRegularFile(path, MAX_BYTES, path);
  } catch (err) {
    fail(path, `cannot read it (${errorMessage(err)})`);
  }
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    fail(path, `not JSON (${errorMessage(err)})`);
  }
  if (!isObj(raw) || raw.kind !== NEURONS_FILE_KIND) fail(path, `expected an object with kind '${NEURONS_FILE_KIND}'`);
  if (raw.version !== 1) fail(path, `unsupported version ${JSON.stringify(raw.version)} (expected 1)`);
  const model = raw.model;
  if (!isObj(model) || typeof model.sha256 !== 'string' || !isInt(model.numBlocks, 1)) fail(path, 'model must hold sha256 and numBlocks');
  const detection = raw.detection;
  if (!isObj(detection) || !isInt(detection.layer, 1) || typeof detection.threshold !== 'number') fail(path, 'detection must hold layer and threshold');
  if (!Array.isArray(raw.neurons)) fail(path, 'neurons must be a list');
  const seen = new Set<string>();
  raw.neurons.forEach((n: unknown, i: number) => {
    if (!isObj(n) || !isInt(n.block, 0) || !isInt(n.index, 0) || (n.sign !== 1 && n.sign !== -1)) fail(path, `neurons[${i}] needs an integer block ≥ 0, index ≥ 0 and sign 1 or -1`);
    if (n.block >= (model.numBlocks as number)) fail(path, `neurons[${i}].block ${n.block} is past the model's ${model.numBlocks} blocks`);
    const key = `${n.block}:${n.index}`;
    if (seen.has(key)) fail(path, `neurons[${i}] repeats block ${n.block} neuron ${n.index}`);
    seen.add(key);
  });
  return { file: raw as unknown as NeuronsFile, sha256: createHash('sha256').update(bytes).digest('hex') };
}

export function writeNeuronsFile(path: string, file: NeuronsFile): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, JSON.stringify(file, null, 2) + '\n');
}
