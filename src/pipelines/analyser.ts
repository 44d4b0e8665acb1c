/**
 * The analysis stage of the scan pipeline (analysis.ts: statistics, observations, store rows) in a worker
 * thread. Why: ONNX Runtime's node binding runs a forward pass synchronously on the calling thread, so any
 * other work on the main thread (the kernel, building rows, SQLite) delays the next pass; here the main
 * thread only drives the model. The session's output buffers are transferred to the worker, not copied, and
 * only an acknowledgement comes back. Where the compiled worker script is absent (tests running the
 * TypeScript sources), the analysis runs on the calling thread.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { openAnalysis, type AnalysisSetup, type BatchJob } from './analysis.js';

export interface Analyser {
  /** Analyses and stores one batch (batches are stored in the order given); takes ownership of its buffers. */
  analyse(job: BatchJob): Promise<void>;
  close(): Promise<void>;
}

const WORKER = fileURLToPath(new URL('./analyser-worker.js', import.meta.url));

/** The typed arrays a job hands over. */
function buffers(job: BatchJob): ArrayBuffer[] {
  const arrays = [...job.hidden, ...Object.values(job.attention ?? {}).map((t) => t.data)];
  return [...new Set(arrays.map((a) => a.buffer as ArrayBuffer))];
}

export function openAnalyser(setup: AnalysisSetup): Analyser {
  if (!existsSync(WORKER)) {
    const analysis = openAnalysis(setup);
    return { analyse: async (job) => analysis.run(job), close: async () => analysis.close() };
  }
  const worker = new Worker(WORKER, { workerData: setup });
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let next = 0;
  let failure: Error | undefined;
  worker.on('message', ({ id, error, code }: { id: number; error?: string; code?: string }) => {
    const w = waiting.get(id);
    waiting.delete(id);
    if (error) w?.reject(Object.assign(new Error(error), { code }));
    else w?.resolve();
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
  const send = (message: { id: number; job?: BatchJob; close?: true }, transfer: ArrayBuffer[] = []) =>
    new Promise<void>((resolve, reject) => {
      if (failure) return reject(failure);
      if (waiting.size === 0) worker.ref();
      waiting.set(message.id, { resolve, reject });
      worker.postMessage(message, transfer);
    });
  return {
    analyse: (job) => send({ id: next++, job }, buffers(job)),
    close: async () => {
      // The worker closes its store connection first: a terminated thread would leave it to the OS.
      if (!failure) await send({ id: next++, close: true }).catch(() => {});
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}
