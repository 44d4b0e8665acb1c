/**
 * Lower the calling thread's scheduling priority (Linux only).
 *
 * Why: ONNX Runtime splits each forward pass over its intra-op threads and waits for the slowest one. A
 * pipeline stage that competes with them for the same cores (the scan's analysis worker) makes every pass
 * wait for a preempted thread. At nice 10 such a stage still gets the CPU the model leaves idle, and enough
 * under contention to keep up (it needs a few per cent of a core), while the model's threads win the cores.
 *
 * Linux applies setpriority to a single thread when given its thread id (from /proc/thread-self). Elsewhere
 * the same call would lower the whole process, so this does nothing there.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** Returns the thread's new nice value, or undefined where it was left alone. */
export function lowerThreadPriority(nice: number): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return undefined;
    if (getPriority(tid) < nice) setPriority(tid, nice);
    return getPriority(tid);
  } catch {
    return undefined; // no /proc, or a sandbox that refuses setpriority: run at normal priority
  }
}
