/**
 * The runner: a model with one tap plan applied (tap/plan.ts) and an ONNX Runtime session open. scan,
 * intervene, the feature × token view and `models inspect` all run through it. Opening runs one probe
 * forward pass on a blank image (with the edits' identity values), so a model whose graph disagrees with
 * its config fails here, before any image is read.
 */
import { badModel, errorMessage, MassivitError } from '../contracts/errors.js';
import { isResidual, layerHook } from '../contracts/hooks.js';
import { checkLayout } from '../model/layout.js';
import type { ModelSpec } from '../model/load.js';
import { editFeeds, identityValues, type EditValues } from '../tap/edits.js';
import { applyTap, byOutputName, sessionFetches, type TapPlan } from '../tap/plan.js';
import { toHalf } from './half.js';
import { createSession, ort, type OpenSession, type RunOptions } from './session.js';

/** A run's results by the plan's output names. */
export type Outputs = Record<string, ort.Tensor>;

export interface RunRequest {
  /** Values for the plan's edits, in `plan.edits` order; without them every edit runs as the identity. */
  edits?: EditValues[];
  /** Fetch only these of the runner's `outputs` (default: all). */
  outputs?: string[];
}

export interface Runner {
  /**
   * The model as the probe pass measured it: the caller's spec, or, for a bare .onnx (no config, width 0),
   * a copy whose `arch.hiddenSize` is the graph's width. The caller's object is never changed.
   */
  spec: ModelSpec;
  plan: TapPlan;
  open: OpenSession;
  outputs: string[];
  run(pixels: Float32Array[], request?: RunRequest): Promise<Outputs>;
  close(): Promise<void>;
}

/**
 * Packs [3,H,W] images into one [B,3,H,W] tensor, in `into` when it is large enough. A run reads its input
 * only while it runs, so one buffer serves every batch of a session: ~5 MB less garbage per batch of 8.
 */
export function packBatch(images: Float32Array[], height: number, width: number, into?: Float32Array): ort.Tensor {
  const per = 3 * height * width;
  const data = into && into.length >= images.length * per ? into.subarray(0, images.length * per) : new Float32Array(images.length * per);
  images.forEach((img, i) => data.set(img, i * per));
  return new ort.Tensor('float32', data, [images.length, 3, height, width]);
}

export async function openRunner(spec: ModelSpec, plan: TapPlan, runOpts: RunOptions): Promise<Runner> {
  // Half-precision hidden states leave the session as float32 (cast in the graph, ±Inf / NaN kept).
  const half = spec.precision === 'fp16' || spec.precision === 'bf16' || spec.precision === 'mixed';
  const { bytes, outputs, fetch, inputs } = applyTap(spec.bytes, half ? { ...plan, float32: true } : plan);
  let open: OpenSession;
  try {
    open = await createSession(bytes, runOpts, spec.externalData?.dir);
  } catch (err) {
    if (err instanceof MassivitError) throw err;
    throw badModel(`ONNX Runtime cannot load ${spec.onnxPath}: ${errorMessage(err)}`, undefined, err);
  }
  const { height, width } = spec.preprocess;
  const all = { outputs, fetch, unique: sessionFetches({ fetch }) };
  const fetchOf = new Map(outputs.map((name, i) => [name, fetch[i]]));
  const identity = Object.fromEntries(inputs.flatMap((i) => editFeeds(i, identityValues(i))).map(([name, data, dims]) => [name, new ort.Tensor('float32', data, dims)]));
  let input = new Float32Array(0);
  let halfInput = new Uint16Array(0);
  const pack = (pixels: Float32Array[]): ort.Tensor => {
    const packed = packBatch(pixels, height, width, input);
    if (spec.inputType !== 'float16') return packed;
    if (halfInput.length < packed.size) halfInput = new Uint16Array(input.length);
    return new ort.Tensor('float16', toHalf(packed.data as Float32Array, halfInput), packed.dims);
  };
  const run = async (pixels: Float32Array[], request: RunRequest = {}): Promise<Outputs> => {
    if (input.length < pixels.length * 3 * height * width) input = new Float32Array(pixels.length * 3 * height * width);
    const feeds: Record<string, ort.Tensor> = { [spec.inputName]: pack(pixels), ...identity };
    if (request.edits) {
      if (request.edits.length !== inputs.length) throw new Error(`${request.edits.length} edit values for ${inputs.length} edits`);
      request.edits.forEach((values, i) => {
        for (const [name, data, dims] of editFeeds(inputs[i], values)) feeds[name] = new ort.Tensor('float32', data, dims);
      });
    }
    let chosen = all;
    if (request.outputs) {
      const names = request.outputs;
      const f = names.map((n) => fetchOf.get(n) ?? fail(`no output ${n} in this plan`));
      chosen = { outputs: names, fetch: f, unique: sessionFetches({ fetch: f }) };
    }
    const raw = await open.session.run(feeds, chosen.unique);
    return byOutputName(chosen, raw) as Outputs;
  };
  const close = () => open.session.release();
  const fixed = spec.fixedBatch;
  const runAny: Runner['run'] = fixed === undefined ? run : (pixels, request) => runInFixedBatches(fixed, 3 * height * width, pixels, request, run);
  try {
    return { spec: await probe(spec, plan, runAny), plan, open, outputs, run: runAny, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * A graph whose input fixes the batch (an export traced with batch 1) runs `fixed` images per pass: the
 * last pass is padded with blank images, and the results of several passes are joined along the batch.
 * scan picks batch = `fixed`, so its passes return the session's own tensors, uncopied.
 */
async function runInFixedBatches(fixed: number, per: number, pixels: Float32Array[], request: RunRequest | undefined, run: Runner['run']): Promise<Outputs> {
  if (pixels.length === fixed) return run(pixels, request);
  const parts: Outputs[] = [];
  for (let i = 0; i < pixels.length; i += fixed) {
    const chunk = pixels.slice(i, i + fixed);
    while (chunk.length < fixed) chunk.push(new Float32Array(per));
    parts.push(await run(chunk, request));
  }
  const joined: Outputs = {};
  for (const name of Object.keys(parts[0])) {
    const first = parts[0][name];
    const perImage = first.size / fixed;
    const data = new (first.data.constructor as new (n: number) => Float32Array)(pixels.length * perImage);
    parts.forEach((p, j) => data.set((p[name].data as Float32Array).subarray(0, Math.min(fixed, pixels.length - j * fixed) * perImage), j * fixed * perImage));
    joined[name] = new ort.Tensor(first.type as 'float32', data, [pixels.length, ...first.dims.slice(1)]);
  }
  return joined;
}

function fail(message: string): never {
  throw new Error(message);
}

/** Runs a blank image; checks the token count and width of the first residual output against the config. */
async function probe(spec: ModelSpec, plan: TapPlan, run: Runner['run']): Promise<ModelSpec> {
  const { height, width } = spec.preprocess;
  let out: Outputs;
  try {
    out = await run([new Float32Array(3 * height * width)]);
  } catch (err) {
    const reason = errorMessage(err).split('\n')[0];
    if (spec.resizedTo !== undefined) throw new MassivitError('BAD_OPTION', `--image-size ${spec.resizedTo}: ${spec.onnxPath} cannot run at ${height}x${width} (${reason})`, 'Drop --image-size to run the model at its own size');
    throw badModel(`The model rejected a ${height}x${width} input from its preprocessor config: ${reason}`);
  }
  const stats = plan.reduce?.layers[0];
  const residual = plan.expose.find(isResidual); // not an MLP activation: its last axis is the MLP's width
  let tokens: number;
  let features: number;
  if (stats !== undefined) {
    const hook = layerHook(stats);
    [tokens, features] = [Number(out[`${hook}.norms`].dims[1]), Number(out[`${hook}.dim_massive`].dims[1])];
  } else if (residual) {
    [tokens, features] = [Number(out[residual].dims[1]), Number(out[residual].dims[2])];
  } else return spec; // nothing residual leaves this session: nothing to measure
  // A bare .onnx has no config: its width comes from the graph.
  const measured = spec.arch.hiddenSize === 0 ? { ...spec, arch: { ...spec.arch, hiddenSize: features } } : spec;
  checkLayout(measured.tokens, measured.arch, tokens, features, [height, width]);
  return measured;
}
