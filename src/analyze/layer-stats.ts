/**
 * Per-image statistics of one raw hidden state [tokens, dims], in two linear passes over the floats: the
 * plain-JS statement of what the WebAssembly SIMD kernel (layer-stats-wasm.ts, which the scan uses)
 * computes, kept as its executable reference (test/scale/layer-stats.test.ts) and for its types.
 *
 * The median comes from a histogram of the IEEE-754 bit patterns (for non-negative floats bit order is
 * value order): one pass bins |a| by its top 16 bits, a second pass collects the values of the bin holding
 * the median and picks it exactly. The same two passes yield the top-k cells, token L2 norms and per-dim
 * counts. (Measured: ~0.3 ms per ViT-Ti layer and image here, the SIMD kernel ~0.06 ms, ONNX Runtime's
 * in-graph TopK median ~0.4 ms; see BENCHMARKS.md.)
 *
 * Semantics match the in-graph reductions of tap/reduce.ts exactly: lower median of |a| (as torch.median),
 * top-k by |a| (ties: lower flat index first), counts of |a| > threshold with float32 thresholds.
 */

import type { StatsCriteria } from '../contracts/criteria.js';
import type { NonFiniteCounts } from './non-finite.js';

export interface LayerStats {
  /** Signed values of the top-k cells by |a|, ranked. */
  topValues: Float32Array;
  /** Flat indices (token × dims + dim) of those cells. */
  topIndices: Int32Array;
  /** Lower median of |a| over the whole hidden state. */
  median: number;
  /** L2 norm of every token. */
  norms: Float32Array;
  /** Per dim: tokens with |a| > max(ratioThreshold × median, absThreshold). */
  dimMassive: Int32Array;
  /** Per dim: tokens with |a| > outlierRatio × median. */
  dimOutlier: Int32Array;
  /** Set by the analysis when the hidden state held NaN or ±Inf (the statistics then count those cells as 0). */
  nonFinite?: NonFiniteCounts;
}

export type { StatsCriteria } from '../contracts/criteria.js';

const ABS_MASK = 0x7fffffff;
const BIN_SHIFT = 16;
const BINS = 1 << (31 - BIN_SHIFT);

/** Reusable buffers: one per analysis loop, so the hot path allocates only its results. */
export class StatsScratch {
  readonly hist = new Int32Array(BINS);
  /** |a| bits of the cells in the median's bin. */
  bin: Uint32Array = new Uint32Array(1024);
  /** Flat indices of the cells that may pass a threshold. */
  candidates: Uint32Array = new Uint32Array(1024);
  private readonly f32 = new Float32Array(1);
  private readonly u32 = new Uint32Array(this.f32.buffer);

  /** IEEE-754 bits of a non-negative number rounded to float32 (the graph compares in float32). */
  bitsOf(value: number): number {
    this.f32[0] = value;
    return this.u32[0];
  }

  valueOf(bits: number): number {
    this.u32[0] = bits;
    return this.f32[0];
  }
}

/** Bits of max(median × ratioThreshold, absThreshold), computed in float32 as the graph's Mul and Max. */
function massiveBitsFor(s: StatsScratch, median: number, c: StatsCriteria): number {
  return s.bitsOf(Math.max(Math.fround(median * Math.fround(c.ratioThreshold)), Math.fround(c.absThreshold)));
}

function grow(a: Uint32Array): Uint32Array {
  const next = new Uint32Array(a.length * 2);
  next.set(a);
  return next;
}

/**
 * Statistics of x[offset .. offset + tokens × dims). `bits` is an Int32Array view of the same memory as `x`.
 */
export function layerStats(
  x: Float32Array,
  bits: Int32Array,
  offset: number,
  tokens: number,
  dims: number,
  topK: number,
  c: StatsCriteria,
  s: StatsScratch,
): LayerStats {
  const n = tokens * dims;
  const k = Math.min(topK, n);
  const hist = s.hist;
  hist.fill(0);
  const norms = new Float32Array(tokens);
  // Top-k kept sorted by |a| bits, descending; `floor` is the bits of the current k-th (−1 while not full).
  const topBits = new Int32Array(k).fill(-1);
  const topIdx = new Int32Array(k);
  let floor = -1;
  for (let t = 0, i = offset; t < tokens; t++) {
    let sq = 0;
    for (let d = 0; d < dims; d++, i++) {
      const v = x[i];
      sq += v * v;
      const b = bits[i] & ABS_MASK;
      hist[b >>> BIN_SHIFT]++;
      if (b > floor) {
        let j = k - 1;
        while (j > 0 && b > topBits[j - 1]) {
          topBits[j] = topBits[j - 1];
          topIdx[j] = topIdx[j - 1];
          j--;
        }
        topBits[j] = b;
        topIdx[j] = i - offset;
        floor = topBits[k - 1];
      }
    }
    norms[t] = Math.sqrt(sq);
  }
  // Lower median = the r-th smallest |a| (0-based), r = ⌊(n − 1) / 2⌋: find its bin, then its rank inside.
  const r = (n - 1) >> 1;
  let bin = 0;
  let below = 0;
  while (below + hist[bin] <= r) below += hist[bin++];
  // Lower bounds of both thresholds from the bin's lower edge: cells above them are the only candidates.
  const binLow = s.valueOf(bin << BIN_SHIFT);
  const candidateBits = Math.min(massiveBitsFor(s, binLow, c), s.bitsOf(binLow * Math.fround(c.outlierRatio)));
  // With ratios near 1 a threshold can fall inside the median's bin: then every cell is a candidate.
  const everyCell = candidateBits < (((bin + 1) << BIN_SHIFT) >>> 0);
  // Second pass: the members of the median's bin, and the (rare) cells that may pass a threshold.
  let m = 0;
  let nc = 0;
  for (let i = offset, end = offset + n; i < end; i++) {
    const b = bits[i] & ABS_MASK;
    if (b >>> BIN_SHIFT === bin) {
      if (m === s.bin.length) s.bin = grow(s.bin);
      s.bin[m++] = b;
    }
    if (b > candidateBits || everyCell) {
      if (nc === s.candidates.length) s.candidates = grow(s.candidates);
      s.candidates[nc++] = i - offset;
    }
  }
  const med = s.valueOf(s.bin.subarray(0, m).sort()[r - below]);
  // Thresholds rounded to float32, as the graph computes them; |a| > t compares as bits for non-negative floats.
  const massiveBits = massiveBitsFor(s, med, c);
  const outlierBits = s.bitsOf(med * Math.fround(c.outlierRatio));
  const dimMassive = new Int32Array(dims);
  const dimOutlier = new Int32Array(dims);
  for (let j = 0; j < nc; j++) {
    const flat = s.candidates[j];
    const b = bits[offset + flat] & ABS_MASK;
    const d = flat % dims;
    if (b > massiveBits) dimMassive[d]++;
    if (b > outlierBits) dimOutlier[d]++;
  }
  const topValues = new Float32Array(k);
  for (let j = 0; j < k; j++) topValues[j] = x[offset + topIdx[j]];
  return { topValues, topIndices: topIdx, median: med, norms, dimMassive, dimOutlier };
}
