/**
 * The `registers` commands (issue 14, test-time registers after Jiang et al. 2025): `find` ranks the MLP
 * neurons that write the high-norm outlier tokens, `add` moves them into one added register token and
 * writes the result as a model folder that every other command treats as a one-register model.
 */
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { invalidOption, MassivitError } from '../contracts/errors.js';
import { loadModel, type ModelSpec } from '../model/load.js';
import { checkInputFolder, checkOutputFolder } from './paths.js';
import type { Device, RunOptions } from '../run/session.js';
import { registerEdits, registerModelBytes, writeRegisterModel, type Provenance } from './registers/add.js';
import { closeness, outputVectors } from './registers/closeness.js';
import { writeCloseness, type Closeness } from '../outputs/register-closeness.js';
import { findRegisterNeurons, type FindOptions, type FindResult } from './registers/find.js';
import { imageSet } from './registers/images.js';
import { NEURONS_FILE, readNeuronsFile, writeNeuronsFile, type NeuronsFile } from '../outputs/register-neurons.js';
import { writeNeuronsReport } from '../report/registers.js';

export { CLOSENESS_FILE } from '../outputs/register-closeness.js';

interface Common {
  model: string | ModelSpec;
  batch?: number;
  device?: Device;
  threads?: number;
  limit?: number;
}

export interface RegistersFindOptions extends Common, Omit<FindOptions, 'run' | 'batch'> {
  images: string;
  /** Neurons file to write (default <images>/../register-neurons.json is not used: the CLI passes one). */
  out: string;
  /** Also write an HTML report next to the file (default true). */
  report?: boolean;
}

const runOptions = (o: Common): RunOptions => ({ device: o.device ?? 'auto', threads: o.threads ?? 0 });
const spec = (m: string | ModelSpec) => (typeof m === 'string' ? loadModel(m) : m);

export async function registersFind(o: RegistersFindOptions): Promise<FindResult & { path: string; html?: string }> {
  checkInputFolder('--images', o.images);
  const model = spec(o.model);
  const set = await imageSet(o.images, o.limit);
  const result = await findRegisterNeurons(model, set, { ...o, batch: o.batch, run: runOptions(o) });
  const path = resolve(o.out);
  writeNeuronsFile(path, result.file);
  const html = o.report === false ? undefined : writeNeuronsReport(path, model, result);
  return { ...result, path, html };
}

export interface RegistersAddOptions extends Common {
  /** A neurons file, 'auto' (run find on `images` first), or a list (tests; [] = the identity). */
  neurons: string | 'auto' | NeuronsFile;
  out: string;
  /** Images to measure closeness on (required for 'auto'). */
  images?: string;
  find?: Omit<FindOptions, 'run' | 'batch'>;
}

export interface RegistersAddResult {
  out: string;
  sha256: string;
  provenance: Provenance;
  closeness?: Closeness;
}

const realpathOr = (p: string) => (existsSync(p) ? realpathSync(p) : p);

type Neurons = { file: NeuronsFile; ref: Provenance['neuronsFile'] };

function givenNeurons(neurons: string | NeuronsFile, source: ModelSpec): Neurons {
  const read = typeof neurons === 'string' ? readNeuronsFile(neurons) : undefined;
  const given: Neurons = read ? { file: read.file, ref: { path: resolve(neurons as string), sha256: read.sha256 } } : { file: neurons as NeuronsFile, ref: { path: '(given in code)', sha256: '' } };
  if (given.file.model.sha256 !== source.sha256) {
    throw new MassivitError('BAD_OPTION', `--neurons ${given.ref.path} was found on another model (sha256 ${given.file.model.sha256.slice(0, 12)}…, this one ${source.sha256.slice(0, 12)}…)`);
  }
  return given;
}

/** --neurons auto: `registers find` on the images, its file written into the model folder. */
async function autoNeurons(o: RegistersAddOptions, source: ModelSpec, out: string): Promise<Neurons> {
  const path = join(out, NEURONS_FILE);
  const found = await registersFind({ ...o, ...o.find, model: source, images: o.images!, out: path });
  return { file: found.file, ref: { path, sha256: readNeuronsFile(path).sha256 } };
}

export async function registersAdd(o: RegistersAddOptions): Promise<RegistersAddResult> {
  if (o.neurons === 'auto' && o.images === undefined) throw invalidOption('--images', "an image folder when --neurons is 'auto'", o.images);
  if (o.images !== undefined) checkInputFolder('--images', o.images);
  checkOutputFolder('--out', o.out);
  const source = spec(o.model);
  const out = resolve(o.out);
  // The new folder is a copy of the source's config with one more register: a bare .onnx has none to copy.
  if (!existsSync(join(source.dir, 'config.json'))) throw new MassivitError('BAD_MODEL', `registers add needs a model folder with config.json; ${source.onnxPath} has none`);
  if (realpathOr(out) === realpathOr(source.dir)) throw new MassivitError('BAD_OUTPUT', `--out ${o.out} is the source model's own folder: pick a new folder for the model with a register`);
  // A bad neurons file, or one from another model, fails before anything is written.
  const given = o.neurons === 'auto' ? undefined : givenNeurons(o.neurons, source);
  mkdirSync(out, { recursive: true });
  const { file: neuronsFile, ref: neuronsRef } = given ?? (await autoNeurons(o, source, out));
  const edits = registerEdits(source, neuronsFile.neurons);
  const provenance: Provenance = {
    sourceModel: { name: source.name, dir: source.dir, sha256: source.sha256 },
    neuronsFile: neuronsRef,
    register: edits.length > 0 ? source.tokens.patchStart : null,
    neurons: neuronsFile.neurons.map((n) => ({ block: n.block, index: n.index, sign: n.sign })),
  };
  const sha256 = writeRegisterModel(source, out, registerModelBytes(source, edits), provenance);
  const result: RegistersAddResult = { out, sha256, provenance };
  if (o.images !== undefined) {
    const set = await imageSet(o.images, o.limit);
    const batch = o.batch ?? 8;
    const before = await outputVectors(source, set, runOptions(o), batch);
    const after = await outputVectors(loadModel(out), set, runOptions(o), batch);
    result.closeness = closeness(before.vectors, after.vectors, before.name, before.kind);
    writeCloseness(out, { imagesDir: set.dir, ...result.closeness });
  }
  return result;
}
