/**
 * What a scan will cost, said before it starts: the batch it runs (a graph with a fixed batch runs that
 * batch; without --batch, the largest of up to 8 whose hidden states fit a budget), and the memory the
 * weights and one batch need. Big models take minutes per hundred images on a CPU; the user should know.
 */
import type { ModelSpec } from '../model/load.js';

/** Default images per forward pass when --batch is not given and memory allows. */
const DEFAULT_BATCH = 8;
/** One batch's hidden states (float32, all layers) under this when the batch is chosen for the user. */
export const AUTO_BATCH_BYTES = 1024 ** 3;
/** Weights from this size on count as a big model: the scan says its cost up front. */
export const BIG_MODEL_BYTES = 256 * 1024 ** 2;

/** Bytes of float32 hidden states one image sends out of the session (every layer, every token). */
export function hiddenBytesPerImage(spec: ModelSpec, layers: number): number {
  return layers * spec.tokens.sequenceLength * spec.arch.hiddenSize * 4;
}

export interface BatchChoice {
  batch: number;
  notices: string[];
}

export function chooseBatch(requested: number | undefined, spec: ModelSpec, layers: number): BatchChoice {
  const fixed = spec.fixedBatch;
  if (fixed !== undefined) {
    const notices = requested !== undefined && requested !== fixed ? [`the model's input has a fixed batch size of ${fixed}: running ${fixed} image${fixed === 1 ? '' : 's'} per forward pass (--batch ${requested} ignored)`] : [`the model's input has a fixed batch size of ${fixed}: running ${fixed} image${fixed === 1 ? '' : 's'} per forward pass`];
    return { batch: fixed, notices };
  }
  if (requested !== undefined) return { batch: requested, notices: [] };
  const perImage = hiddenBytesPerImage(spec, layers);
  const batch = perImage > 0 ? Math.max(1, Math.min(DEFAULT_BATCH, Math.floor(AUTO_BATCH_BYTES / perImage))) : DEFAULT_BATCH;
  return { batch, notices: batch < DEFAULT_BATCH ? [`batch ${batch} chosen so one batch's hidden states fit ${gib(AUTO_BATCH_BYTES)} (pass --batch to override)`] : [] };
}

function gib(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${Math.max(1, Math.round(bytes / 1024 ** 2))} MiB`;
}

/**
 * The memory line for a big model: weights, plus one batch's hidden states held twice (the batch being
 * analysed while the next one runs).
 */
export function costNotice(spec: ModelSpec, layers: number, batch: number): string | undefined {
  if (spec.weightBytes < BIG_MODEL_BYTES) return undefined;
  const activations = 2 * batch * hiddenBytesPerImage(spec, layers);
  return `${spec.name}: ${gib(spec.weightBytes)} of ${spec.precision} weights + about ${gib(activations)} of hidden states for batches of ${batch} (${spec.tokens.sequenceLength} tokens × ${spec.arch.hiddenSize} dims × ${layers} layers); the time per image follows the first batch`;
}

/** After the first batch: seconds per image and the rough total. */
export function speedNotice(seconds: number, images: number, total: number): string {
  const per = seconds / images;
  const minutes = (per * total) / 60;
  return `first batch: ${per.toFixed(per < 1 ? 2 : 1)} s per image; about ${minutes < 1 ? '<1' : Math.round(minutes)} min for ${total} image${total === 1 ? '' : 's'}`;
}
