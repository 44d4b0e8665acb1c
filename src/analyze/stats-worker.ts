/** Worker side of analyze/analyser.ts: the SIMD kernel over hidden states handed over (transferred) per batch. */
import { parentPort, workerData } from 'node:worker_threads';
import { LayerStatsKernel, type KernelShape } from './layer-stats-wasm.js';
import type { StatsCriteria } from './layer-stats.js';
import { statsOfBatch } from './analyser.js';

const { shape, criteria } = workerData as { shape: KernelShape; criteria: StatsCriteria };
const kernel = new LayerStatsKernel(shape);

parentPort!.on('message', ({ id, size, hidden }: { id: number; size: number; hidden: Float32Array[] }) => {
  const stats = statsOfBatch(kernel, hidden, size, criteria);
  const transfer = stats.flat().flatMap((s) => [s.topValues.buffer, s.topIndices.buffer, s.norms.buffer, s.dimMassive.buffer, s.dimOutlier.buffer] as ArrayBuffer[]);
  parentPort!.postMessage({ id, stats }, transfer);
});
