/**
 * The patch size as the graph has it: the kernel of the Conv that embeds the image (ViT, DINOv2 and CLIP
 * all patchify with one Conv whose kernel = stride = patch size). Lets load.ts name a wrong patch_size
 * directly instead of inferring it from a token count.
 */
import type { ModelProto } from './onnx.js';

/** Ops an exporter may put between the image input and the patch Conv. */
const PASS_THROUGH = new Set(['Cast', 'Identity']);

export function patchKernel(model: ModelProto, inputName: string): number | undefined {
  const nodes = model.graph?.node ?? [];
  const sources = new Set([inputName]);
  for (const n of nodes) if (PASS_THROUGH.has(n.opType ?? '') && sources.has(n.input?.[0] ?? '')) for (const o of n.output ?? []) sources.add(o);
  const conv = nodes.find((n) => n.opType === 'Conv' && sources.has(n.input?.[0] ?? ''));
  if (!conv) return undefined;
  const attr = (conv.attribute ?? []).find((a) => a.name === 'kernel_shape');
  let dims = attr?.ints?.map(Number);
  if (!dims || dims.length !== 2) {
    const weight = (model.graph?.initializer ?? []).find((t) => t.name === conv.input?.[1]);
    dims = weight?.dims?.map(Number).slice(2);
  }
  return dims && dims.length === 2 && dims[0] === dims[1] && dims[0] > 0 ? dims[0] : undefined;
}
