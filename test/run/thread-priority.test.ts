/**
 * The analysis worker lowers its own thread's priority so ONNX Runtime's threads win the cores
 * (run/thread-priority.ts). On Linux that must change that one thread and leave the rest of the process
 * (the main thread, which drives the model) at its priority. Runs the compiled module in a real worker thread.
 */
import { existsSync } from 'node:fs';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/env.js';

const COMPILED = join(ROOT, 'dist', 'run', 'thread-priority.js');

describe.skipIf(process.platform !== 'linux' || !existsSync(COMPILED))('lowerThreadPriority', () => {
  it('lowers only the calling thread', async () => {
    const before = getPriority();
    const code = `
      const { parentPort } = require('node:worker_threads');
      const { readlinkSync } = require('node:fs');
      const { getPriority } = require('node:os');
      import(${JSON.stringify(pathToFileURL(COMPILED).href)}).then(({ lowerThreadPriority }) => {
        const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
        const returned = lowerThreadPriority(10);
        parentPort.postMessage({ returned, thread: getPriority(tid), process: getPriority(process.pid) });
      });`;
    const result = await new Promise<{ returned: number; thread: number; process: number }>((resolve, reject) => {
      const worker = new Worker(code, { eval: true });
      worker.once('message', (m) => {
        resolve(m);
        void worker.terminate();
      });
      worker.once('error', reject);
    });
    expect(result.returned).toBe(Math.max(10, before));
    expect(result.thread).toBe(Math.max(10, before));
    expect(result.process).toBe(before); // the main thread's id is the process id
    expect(getPriority()).toBe(before);
  });
});
