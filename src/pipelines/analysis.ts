/**
 * What the scan does with one batch once ONNX Runtime has run it: the layer statistics of every image (the
 * SIMD kernel, layer-stats-wasm.ts), their observations (cells classified, outlier dims), the attention
 * summaries when tapped, and the batch's rows in the store (one transaction). Runs in the analyser's worker
 * thread (analyser.ts), or on the calling thread where the compiled worker is absent.
 */
import type { ScanCriteria } from '../contracts/criteria.js';
import { layerStats, StatsScratch, type LayerStats, type StatsCriteria } from '../analyze/layer-stats.js';
import { countNonFinite, finiteCopy } from '../analyze/non-finite.js';
import { LayerStatsKernel, type KernelShape } from '../analyze/layer-stats-wasm.js';
import { toObservation, type LayerObservation } from '../analyze/observe.js';
import { observeAttention, sinkTokens, type AttentionOutputs } from '../analyze/attention.js';
import type { TokenLayout } from '../model/layout.js';
import { makeWriter, openStore, type ImageFailure, type ImageResult, type KnownFile } from '../store/db.js';

export interface AnalysisSetup {
  shape: KernelShape;
  criteria: ScanCriteria;
  layout: TokenLayout;
  /** Transformer blocks (attention summaries). */
  numBlocks: number;
  /** The scan's SQLite store; the analysis is its only writer while the scan runs. */
  store: string;
}

interface BatchImage {
  path: string;
  hash: string;
  width: number;
  height: number;
}

/** One batch for the analysis; the hidden-state and attention buffers pass to it (they are transferred). */
export interface BatchJob {
  images: BatchImage[];
  /** hidden[layer] = float32 [images, tokens, dims], every layer from 0. */
  hidden: Float32Array[];
  /** `scan --attention`: the tap's attention summary outputs. */
  attention?: AttentionOutputs;
  failures: ImageFailure[];
  known: KnownFile[];
}

/** stats[item][slot] for hidden[slot] = float32 [size, tokens, dims] of one tapped layer. */
function statsOfBatch(kernel: LayerStatsKernel, hidden: Float32Array[], size: number, c: StatsCriteria): LayerStats[][] {
  const stats: LayerStats[][] = Array.from({ length: size }, () => new Array<LayerStats>(hidden.length));
  const { tokens, dims } = kernel.shape;
  // Layer by layer, so each copy into the kernel's memory is still in cache when the kernel reads it.
  hidden.forEach((h, slot) => {
    const x = kernel.slot(slot, size);
    x.set(h);
    for (let item = 0; item < size; item++) {
      const s = kernel.stats(slot, item, c);
      // NaN / ±Inf show as non-finite token norms; only then is the hidden state read again (rare).
      const nonFinite = countNonFinite(x, item * tokens * dims, tokens, dims, s.norms);
      stats[item][slot] = nonFinite ? { ...finiteStats(x, item, kernel, c), nonFinite } : s;
    }
  });
  return stats;
}

let scratch: StatsScratch | undefined;

/** The statistics of one image's hidden state with its non-finite cells as 0 (the JS reference, same results as the kernel). */
function finiteStats(x: Float32Array, item: number, kernel: LayerStatsKernel, c: StatsCriteria): LayerStats {
  const { tokens, dims } = kernel.shape;
  const copy = finiteCopy(x, item * tokens * dims, tokens * dims);
  return layerStats(copy, new Int32Array(copy.buffer), 0, tokens, dims, kernel.k, c, (scratch ??= new StatsScratch()));
}

export interface Analysis {
  run(job: BatchJob): void;
  close(): void;
}

export function openAnalysis(setup: AnalysisSetup): Analysis {
  const { criteria, layout, numBlocks } = setup;
  const kernel = new LayerStatsKernel(setup.shape);
  const db = openStore(setup.store);
  const write = makeWriter(db);
  return {
    run(job) {
      const stats = statsOfBatch(kernel, job.hidden, job.images.length, criteria);
      const results: ImageResult[] = job.images.map((image, i) => ({
        ...image,
        layers: stats[i].map((s, layer): LayerObservation => toObservation(layer, s, layout, criteria)),
      }));
      if (job.attention) {
        for (const [i, r] of results.entries()) {
          // Attention after a NaN is NaN: such images stay out of the attention summary (scan.json nonFinite counts them).
          if (!r.layers.some((l) => l.nonFinite)) r.attention = observeAttention(job.attention, i, numBlocks, layout, sinkTokens(r.layers));
        }
      }
      write(results, job.failures, job.known);
    },
    close: () => db.close(),
  };
}
