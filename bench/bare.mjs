/**
 * Contender (a): bare inference. The untapped model (its own outputs only) behind exactly the scan's
 * input pipeline: the same walk, file reads, sharp decode + preprocessing, bounded decode-ahead
 * (mapOrdered, the decode worker of run/decode.ts), batch packing and session options. No hashing (the
 * scan hashes each file for its store), no analysis, no store.
 * Usage: node bench/bare.mjs <model dir> <image dir> <threads> <batch>; prints one JSON line.
 */
import { resolve } from 'node:path';
import { loadModel } from '../dist/model/load.js';
import { walkImages } from '../dist/images/walk.js';
import { mapOrdered } from '../dist/run/pipeline.js';
import { openDecoder } from '../dist/run/decode.js';
import { createSession } from '../dist/run/session.js';
import { packBatch } from '../dist/run/runner.js';

const [modelDir, imageDir, threadsArg, batchArg] = process.argv.slice(2);
const threads = Number(threadsArg);
const batch = Number(batchArg);
const start = performance.now();
const spec = loadModel(modelDir);
const { session } = await createSession(spec.bytes, { device: 'cpu', threads }, spec.externalData?.dir); // external weights: read by ORT from the model folder
const { height, width } = spec.preprocess;
const { entries } = await walkImages(resolve(imageDir));
let images = 0;
let pending = [];
const input = new Float32Array(batch * 3 * height * width); // one input buffer for every batch, as the scan does
const flush = async () => {
  if (pending.length === 0) return;
  await session.run({ [spec.inputName]: packBatch(pending, height, width, input) });
  images += pending.length;
  pending = [];
};
const ahead = Math.max(4, batch * 2);
const decoder = openDecoder({ preprocess: spec.preprocess, maxPixels: 100_000_000, hash: false });
for await (const { pixels, reason } of mapOrdered(entries, ahead, (e) => decoder.decode(e))) {
  if (reason) throw new Error(reason);
  pending.push(pixels);
  if (pending.length >= batch) await flush();
}
await flush();
await decoder.close();
await session.release();
const seconds = (performance.now() - start) / 1000;
const cpu = process.cpuUsage();
process.stdout.write(JSON.stringify({ images, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMiB: process.resourceUsage().maxRSS / 1024 }) + "\n");
