/**
 * The layer statistics of layer-stats.ts, computed by a WebAssembly SIMD kernel (wasm/layer-stats.ts).
 *
 * Why: the exact median is the expensive statistic. In the graph it is a TopK over half the hidden state
 * (ONNX Runtime: an indirect nth_element, ~0.4 ms per layer and image for ViT-Ti), in plain JS the
 * histogram select of layer-stats.ts takes ~0.3 ms; this kernel takes ~0.06 ms (measured, BENCHMARKS.md).
 *
 * The kernel owns one linear memory, sized once for a batch (never grown afterwards, so views stay valid):
 * a slot per tapped layer holding that layer's hidden states for the whole batch [batch, tokens, dims].
 * The scan runs it in a worker thread (analyze/analyser.ts).
 */
import { LAYER_STATS_WASM } from './layer-stats.wasm.js';
import type { LayerStats, StatsCriteria } from './layer-stats.js';

interface KernelExports {
  memory: WebAssembly.Memory;
  stats(x: number, tokens: number, dims: number, k: number, ratio: number, abs: number, outlier: number, out: number, scratch: number, sample: number, margin: number): number;
}

let compiled: WebAssembly.Module | undefined;

const PAGE = 65536;
/** The AssemblyScript module keeps its own (tiny) data below this offset. */
const BASE = PAGE;

export interface KernelShape {
  /** Tapped layers (one memory slot each). */
  layers: number;
  /** Largest batch. */
  batch: number;
  tokens: number;
  dims: number;
  topK: number;
}

/**
 * How the kernel brackets the median before its pass: a sample of `sample` cells spread over tokens and dims,
 * and the sample ranks `margin` either side of the median's. 256 ± 32 is four standard deviations of the
 * sample median's rank (larger samples cost more to select than they save); a miss costs a selection over
 * all cells, never a wrong result (the tests force misses).
 */
export interface MedianBracket {
  sample: number;
  margin: number;
}

export const DEFAULT_BRACKET: MedianBracket = { sample: 256, margin: 32 };

export class LayerStatsKernel {
  private readonly exports: KernelExports;
  private readonly slotBytes: number;
  private readonly outPtr: number;
  private readonly scratchPtr: number;
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;
  readonly k: number;

  constructor(readonly shape: KernelShape, private readonly bracket: MedianBracket = DEFAULT_BRACKET) {
    compiled ??= new WebAssembly.Module(Buffer.from(LAYER_STATS_WASM, 'base64'));
    this.exports = new WebAssembly.Instance(compiled, {}).exports as unknown as KernelExports;
    const { layers, batch, tokens, dims } = shape;
    const n = tokens * dims;
    this.k = Math.min(shape.topK, n);
    this.slotBytes = batch * n * 4;
    this.outPtr = BASE + layers * this.slotBytes;
    this.scratchPtr = this.outPtr + align(4 * (2 * this.k + tokens + 2 * dims));
    const end = this.scratchPtr + 4 * (4096 + (n + 4) + n);
    const memory = this.exports.memory;
    const pages = Math.ceil(end / PAGE) - memory.buffer.byteLength / PAGE;
    if (pages > 0) memory.grow(pages);
    this.f32 = new Float32Array(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
  }

  /** Where the session writes layer slot `slot` for a batch of `size` images: float32 [size, tokens, dims]. */
  slot(slot: number, size: number): Float32Array {
    const n = this.shape.tokens * this.shape.dims;
    if (slot < 0 || slot >= this.shape.layers || size < 1 || size > this.shape.batch) throw new RangeError(`no slot ${slot} for a batch of ${size}`);
    return this.f32.subarray((BASE + slot * this.slotBytes) / 4, (BASE + slot * this.slotBytes) / 4 + size * n);
  }

  /** Statistics of image `item` of layer slot `slot` (its hidden state must be in the slot). */
  stats(slot: number, item: number, c: StatsCriteria): LayerStats {
    const { tokens, dims } = this.shape;
    const n = tokens * dims;
    const x = BASE + slot * this.slotBytes + item * n * 4;
    const k = this.k;
    const median = this.exports.stats(x, tokens, dims, k, c.ratioThreshold, c.absThreshold, c.outlierRatio, this.outPtr, this.scratchPtr, this.bracket.sample, this.bracket.margin);
    const o = this.outPtr / 4;
    const topIndices = this.i32.slice(o + k, o + 2 * k);
    const topValues = new Float32Array(k);
    for (let j = 0; j < k; j++) topValues[j] = this.f32[x / 4 + topIndices[j]];
    return {
      topValues,
      topIndices,
      median,
      norms: this.f32.slice(o + 2 * k, o + 2 * k + tokens),
      dimMassive: this.i32.slice(o + 2 * k + tokens, o + 2 * k + tokens + dims),
      dimOutlier: this.i32.slice(o + 2 * k + tokens + dims, o + 2 * k + tokens + 2 * dims),
    };
  }
}

function align(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}
