/**
 * A model with its tap applied and a session open. Opening runs one probe forward pass on a blank
 * image, so a model whose graph disagrees with its config fails here, before any image is read.
 */
import { badModel, errorMessage } from '../errors.js';
import { layerHook } from '../hooks.js';
import { checkLayout } from '../model/layout.js';
import type { ModelSpec } from '../model/load.js';
import { applyTap, byOutputName, sessionFetches, type TapPlan } from '../tap/plan.js';
import { createSession, ort, type OpenSession, type RunOptions } from './session.js';
import type { Outputs } from '../analyze/observe.js';

export interface TappedModel {
  spec: ModelSpec;
  plan: TapPlan;
  open: OpenSession;
  outputs: string[];
  run(pixels: Float32Array[]): Promise<Outputs>;
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

export async function openTapped(spec: ModelSpec, plan: TapPlan, runOpts: RunOptions): Promise<TappedModel> {
  const { bytes, outputs, fetch } = applyTap(spec.bytes, plan);
  let open: OpenSession;
  try {
    open = await createSession(bytes, runOpts);
  } catch (err) {
    if (err instanceof Error && err.name === 'MassivitError') throw err;
    throw badModel(`ONNX Runtime cannot load ${spec.onnxPath}: ${errorMessage(err)}`);
  }
  const { height, width } = spec.preprocess;
  const unique = sessionFetches({ fetch });
  let input = new Float32Array(0);
  const run = async (pixels: Float32Array[]): Promise<Outputs> => {
    if (input.length < pixels.length * 3 * height * width) input = new Float32Array(pixels.length * 3 * height * width);
    const raw = await open.session.run({ [spec.inputName]: packBatch(pixels, height, width, input) }, unique);
    return byOutputName({ outputs, fetch }, raw) as Outputs;
  };
  const tapped: TappedModel = { spec, plan, open, outputs, run, close: () => open.session.release() };
  await probe(tapped);
  return tapped;
}

async function probe(t: TappedModel): Promise<void> {
  const { spec } = t;
  const { height, width } = spec.preprocess;
  let out: Outputs;
  try {
    out = await t.run([new Float32Array(3 * height * width)]);
  } catch (err) {
    throw badModel(`The model rejected a ${height}x${width} input from its preprocessor config: ${errorMessage(err).split('\n')[0]}`);
  }
  const first = t.plan.statsLayers.length > 0 ? `${layerHook(t.plan.statsLayers[0])}.norms` : undefined;
  const full = t.plan.full[0];
  const dims = first ? out[first].dims : out[full].dims;
  const tokens = Number(dims[1]);
  const features = first ? Number(out[first.replace('.norms', '.dim_massive')].dims[1]) : Number(out[full].dims[2]);
  if (spec.arch.hiddenSize === 0) spec.arch.hiddenSize = features; // bare .onnx: width comes from the graph
  checkLayout(spec.tokens, spec.arch, tokens, features, [height, width]);
}
