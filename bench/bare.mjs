/**
 * Contender (a): bare inference. The untapped model (its own outputs only) behind exactly the scan's
 * input pipeline: the same walk, file reads, sharp decode + preprocessing, bounded decode-ahead
 * (mapOrdered), batch packing and session options. No hashing, no analysis, no store.
 * Usage: node bench/bare.mjs <model dir> <image dir> <threads> <batch>; prints one JSON line.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadModel } from '../dist/model/load.js';
import { walkImages } from '../dist/images/walk.js';
import { preprocessImage } from '../dist/images/preprocess.js';
import { mapOrdered } from '../dist/run/pipeline.js';
import { createSession } from '../dist/run/session.js';
import { packBatch } from '../dist/run/tapped.js';

const [modelDir, imageDir, threadsArg, batchArg] = process.argv.slice(2);
const threads = Number(threadsArg);
const batch = Number(batchArg);
const start = performance.now();
const spec = loadModel(modelDir);
const { session } = await createSession(spec.bytes, { device: 'cpu', threads });
const { height, width } = spec.preprocess;
const { entries } = await walkImages(resolve(imageDir));
let images = 0;
let pending = [];
const flush = async () => {
  if (pending.length === 0) return;
  await session.run({ [spec.inputName]: packBatch(pending, height, width) });
  images += pending.length;
  pending = [];
};
const ahead = Math.max(4, batch * 2);
for await (const pixels of mapOrdered(entries, ahead, async (e) => (await preprocessImage(await readFile(e.path), spec.preprocess)).pixels)) {
  pending.push(pixels);
  if (pending.length >= batch) await flush();
}
await flush();
await session.release();
const seconds = (performance.now() - start) / 1000;
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ images, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMiB: process.resourceUsage().maxRSS / 1024 }) + "\n");
