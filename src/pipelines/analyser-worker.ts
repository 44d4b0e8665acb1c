/** Worker side of analyze/analyser.ts: runs each batch it is sent through the analysis (analysis.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { openAnalysis, type AnalysisSetup, type BatchJob } from './analysis.js';
import { lowerThreadPriority } from '../run/thread-priority.js';

// Below the model's threads, so a forward pass never waits for a thread preempted by the analysis
// (run/thread-priority.ts; BENCHMARKS.md has the A/B).
lowerThreadPriority(10);
const analysis = openAnalysis(workerData as AnalysisSetup);

parentPort!.on('message', ({ id, job, close }: { id: number; job?: BatchJob; close?: true }) => {
  try {
    if (job) analysis.run(job);
    if (close) analysis.close();
    parentPort!.postMessage({ id });
  } catch (err) {
    // The code (SQLITE_FULL, ENOSPC …) travels too: a full disk is a disk error, not a crash.
    parentPort!.postMessage({ id, error: err instanceof Error ? err.message : String(err), code: (err as { code?: unknown }).code });
  }
});
