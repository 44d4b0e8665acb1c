/**
 * Where a big model's scan time goes, measured in one process on one generated model (bench/vit-shaped.mjs):
 * loadModel (reads the graph, streams the weights through SHA-256), a bare session's creation, a runner's
 * opening (tap + session + the probe pass on one blank image), then forward passes of the same batch with
 * every layer exposed (the scan's plan) and untapped, alternating. Usage:
 * npm run build && node bench/big-parts.mjs <vit-l|vit-g> [--batch 2] [--rounds 2] [--threads 2]
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../dist/model/load.js';
import { openRunner, packBatch } from '../dist/run/runner.js';
import { createSession } from '../dist/run/session.js';
import { layerHook } from '../dist/contracts/hooks.js';
import { writeVitShaped } from './vit-shaped.mjs';

const [kind, ...args] = process.argv.slice(2);
const opt = (name, fallback) => Number(args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const [batch, rounds, threads] = [opt('batch', 2), opt('rounds', 2), opt('threads', 2)];
const dir = join('bench', '.tmp', `${kind}-parts`);
const secs = async (f) => { const t = performance.now(); const r = await f(); return [(performance.now() - t) / 1000, r]; };
writeVitShaped(kind, dir);
try {
  const [load, spec] = await secs(() => loadModel(dir));
  const [bareOpen, { session }] = await secs(() => createSession(spec.bytes, { device: 'cpu', threads }, spec.externalData?.dir));
  const layers = Array.from({ length: spec.arch.numLayers + 1 }, (_, i) => layerHook(i));
  const [tapOpen, runner] = await secs(() => openRunner(spec, { expose: layers }, { device: 'cpu', threads }));
  const { height, width } = spec.preprocess;
  const pixels = Array.from({ length: batch }, (_, k) => new Float32Array(3 * height * width).map((_, i) => Math.sin(i * (k + 1) * 1e-3)));
  const bare = [];
  const tapped = [];
  for (let r = 0; r < rounds; r++) {
    bare.push((await secs(() => session.run({ [spec.inputName]: packBatch(pixels, height, width) })))[0] / batch);
    tapped.push((await secs(() => runner.run(pixels)))[0] / batch);
  }
  await Promise.all([session.release(), runner.close()]);
  const out = { kind, weightsGiB: spec.weightBytes / 2 ** 30, batch, threads, loadModelS: load, bareSessionS: bareOpen, runnerOpenWithProbeS: tapOpen, bareSecondsPerImage: bare, tappedSecondsPerImage: tapped, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
  console.log(JSON.stringify(out));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
