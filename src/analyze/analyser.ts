/**
 * The analysis stage of the scan pipeline: layer statistics of every image of a batch, computed by the SIMD
 * kernel (layer-stats-wasm.ts) in a worker thread while the main thread runs the next batch through ONNX
 * Runtime (whose node binding runs a forward pass synchronously on the calling thread). The session's
 * output buffers are transferred to the worker, not copied. Where the compiled worker script is absent
 * (tests running the TypeScript sources), the kernel runs on the calling thread.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LayerStats, StatsCriteria } from './layer-stats.js';
import { LayerStatsKernel, type KernelShape } from './layer-stats-wasm.js';

/** stats[item][slot] for hidden[slot] = float32 [size, tokens, dims] of one tapped layer. */
export function statsOfBatch(kernel: LayerStatsKernel, hidden: Float32Array[], size: number, c: StatsCriteria): LayerStats[][] {
  const stats: LayerStats[][] = Array.from({ length: size }, () => new Array<LayerStats>(hidden.length));
  // Layer by layer, so each copy into the kernel's memory is still in cache when the kernel reads it.
  hidden.forEach((h, slot) => {
    kernel.slot(slot, size).set(h);
    for (let item = 0; item < size; item++) stats[item][slot] = kernel.stats(slot, item, c);
  });
  return stats;
}

export interface Analyser {
  /** Takes ownership of the `hidden` buffers (they are transferred to the worker). */
  analyse(hidden: Float32Array[], size: number): Promise<LayerStats[][]>;
  close(): Promise<void>;
}

const WORKER = fileURLToPath(new URL('./stats-worker.js', import.meta.url));

export function openAnalyser(shape: KernelShape, criteria: StatsCriteria): Analyser {
  const c: StatsCriteria = { absThreshold: criteria.absThreshold, ratioThreshold: criteria.ratioThreshold, outlierRatio: criteria.outlierRatio };
  if (!existsSync(WORKER)) {
    const kernel = new LayerStatsKernel(shape);
    return { analyse: async (hidden, size) => statsOfBatch(kernel, hidden, size, c), close: async () => {} };
  }
  const worker = new Worker(WORKER, { workerData: { shape, criteria: c } });
  const waiting = new Map<number, { resolve: (s: LayerStats[][]) => void; reject: (e: Error) => void }>();
  let next = 0;
  let failure: Error | undefined;
  worker.on('message', ({ id, stats }: { id: number; stats: LayerStats[][] }) => {
    waiting.get(id)?.resolve(stats);
    waiting.delete(id);
    if (waiting.size === 0) worker.unref();
  });
  const fail = (err: Error) => {
    failure ??= new Error(`the analysis worker stopped: ${err.message}`);
    for (const w of waiting.values()) w.reject(failure);
    waiting.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
  worker.unref(); // keeps the process alive only while a batch is being analysed
  return {
    analyse: (hidden, size) =>
      new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        const id = next++;
        if (waiting.size === 0) worker.ref();
        waiting.set(id, { resolve, reject });
        const buffers = [...new Set(hidden.map((h) => h.buffer as ArrayBuffer))];
        worker.postMessage({ id, size, hidden }, buffers);
      }),
    close: async () => {
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}
