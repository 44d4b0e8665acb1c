/**
 * Running a model at another input size (--image-size). Only families whose graphs interpolate their
 * position embeddings to the patch grid (DINOv2, DINOv2-reg: a Resize in the embeddings) can; a ViT or
 * CLIP graph adds fixed-size position embeddings, so it is refused here, and a graph that still fails at
 * the new size is refused by the runner's probe pass.
 */
import { MassivitError } from '../contracts/errors.js';
import type { ArchConfig } from './config.js';
import type { PreprocessSpec } from './preprocessor.js';
import type { ModelProto } from './onnx.js';

const RESIZABLE = new Set(['dinov2', 'dinov2_with_registers']);

/** Refuses a size the model's graph cannot run at (before any work). */
export function checkResizable(model: ModelProto, arch: ArchConfig, size: number, path: string): void {
  if (!RESIZABLE.has(arch.family)) {
    throw badOption(`--image-size ${size}: ${path} is a ${arch.family} model, whose position embeddings have a fixed size (${arch.imageSize} px); only DINOv2 / DINOv2-reg graphs interpolate them`);
  }
  if (!(model.graph?.node ?? []).some((n) => n.opType === 'Resize')) {
    throw badOption(`--image-size ${size}: ${path} has no Resize in its graph, so its position embeddings were exported at a fixed size and cannot follow another input size`);
  }
  if (resizeIsFixed(model)) {
    throw badOption(`--image-size ${size}: ${path} interpolates its position embeddings to a constant patch grid (the exporter traced the grid of its own input size), so it cannot follow another input size`, 'Re-export the model with a recent transformers / optimum (the grid is then computed from the input), or drop --image-size');
  }
  if (size < arch.patchSize) throw badOption(`--image-size ${size} is smaller than one ${arch.patchSize}px patch`);
}

/**
 * Whether the position-embedding Resize has a constant target: its `sizes` input a constant, or a Concat of
 * the batch/channel dims ending in a constant [rows, cols] (older exports), rather than one computed from the
 * patch embedding's shape.
 */
function resizeIsFixed(model: ModelProto): boolean {
  const graph = model.graph!;
  const constants = new Set([...(graph.initializer ?? []).map((t) => t.name ?? ''), ...(graph.node ?? []).filter((n) => n.opType === 'Constant').flatMap((n) => n.output ?? [])]);
  const producer = new Map((graph.node ?? []).flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
  return (graph.node ?? []).some((n) => {
    if (n.opType !== 'Resize') return false;
    const sizes = n.input?.[3] ?? '';
    if (sizes === '') return false; // scales: the output follows the input
    if (constants.has(sizes)) return true;
    const p = producer.get(sizes);
    return p?.opType === 'Concat' && constants.has(p.input?.[(p.input?.length ?? 0) - 1] ?? ''); // the spatial part comes last
  });
}

/** The same recipe at another final size: a shortest-edge resize keeps its ratio to the crop (256 : 224). */
export function atImageSize(pp: PreprocessSpec, size: number): PreprocessSpec {
  const final = pp.crop ?? { height: pp.height, width: pp.width };
  const resize: PreprocessSpec['resize'] =
    pp.resize?.kind === 'shortest_edge' ? { kind: 'shortest_edge', edge: Math.round((pp.resize.edge * size) / Math.min(final.height, final.width)) }
    : pp.resize ? { kind: 'exact', height: size, width: size }
    : null;
  return { ...pp, resize, crop: pp.crop ? { height: size, width: size } : null, height: size, width: size };
}

/**
 * Makes the input's height and width symbolic (exports fix them to the traced size, and ONNX Runtime
 * checks fixed input dims); returns whether anything changed.
 */
export function freeInputSize(model: ModelProto, inputName: string): boolean {
  const dims = (model.graph?.input ?? []).find((i) => i.name === inputName)?.type?.tensorType?.shape?.dim;
  if (!dims || dims.length !== 4) return false;
  let changed = false;
  (['height', 'width'] as const).forEach((name, k) => {
    const d = dims[2 + k];
    if (d.dimParam) return;
    dims[2 + k] = { dimParam: name };
    changed = true;
  });
  return changed;
}

function badOption(message: string, hint = 'Drop --image-size to run the model at its own size'): MassivitError {
  return new MassivitError('BAD_OPTION', message, hint);
}
