#!/usr/bin/env node
/**
 * The throughput and memory benchmark (BENCHMARKS.md). Self-contained: builds its image sets under
 * bench/.tmp, runs every contender in a fresh process with the same threads and batch, prints a table and
 * writes bench/.tmp/results.json. Needs `npm run build` and the real ViT-Ti ($MASSIVIT_MODELS_DIR, default
 * ../shared/models). Takes 5-10 minutes on 2 cores.
 *
 *   node bench/run.mjs [--threads 2] [--batch 8] [--rounds 3] [--images 510] [--rss-images 5000]
 *                      [--no-torch] [--no-rss] [--keep]
 *
 * Contenders, on the sample photos repeated to --images files (distinct contents, same pixels):
 *   bare   the untapped model behind the same decode/preprocess pipeline (bench/bare.mjs)
 *   scan   massivit scan, every layer, all default statistics, store + scan.json (bench/scan-child.mjs)
 *   torch  the paper's method: PyTorch forward hooks, top-k + median per block (bench/torch_reference.py)
 * bare and scan alternate for --rounds rounds (the machine may be shared: the best round of each is the
 * least disturbed; the median is shown too). Peak RSS of scan at --images and at --rss-images files.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { imageSet, removeImageSet, ROOT, TMP } from './dataset.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const flag = (name) => args.includes(`--${name}`);
const threads = opt('threads', 2);
const batch = opt('batch', 8);
const rounds = opt('rounds', 3);
const count = opt('images', 510);
const rssCount = opt('rss-images', 5000);
const modelsDir = resolve(ROOT, process.env.MASSIVIT_MODELS_DIR ?? '../shared/models');
const model = join(modelsDir, 'vit-tiny-augreg-in1k');
if (!existsSync(join(model, 'model.onnx'))) {
  console.error(`bench: no model at ${model} (set MASSIVIT_MODELS_DIR to the folder holding vit-tiny-augreg-in1k)`);
  process.exit(2);
}
if (!existsSync(join(ROOT, 'dist', 'pipelines', 'scan.js'))) {
  console.error('bench: run `npm run build` first');
  process.exit(2);
}
const PY = '/usr/bin/python3';

function json(cmd, argv, env = {}) {
  const r = spawnSync(cmd, argv, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

const freshOut = (name) => {
  const dir = join(TMP, 'out', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(TMP, 'out'), { recursive: true });
  return dir;
};
const bare = (dir) => json('node', ['bench/bare.mjs', model, dir, String(threads), String(batch)]);
const scanRun = (dir, name) => json('node', ['bench/scan-child.mjs', model, dir, freshOut(name), String(threads), String(batch)]);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const fmt = (x, d = 1) => x.toFixed(d);

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  node: process.version,
  onnxruntime: JSON.parse(readFileSync(join(ROOT, 'node_modules/onnxruntime-node/package.json'), 'utf8')).version,
  loadBefore: loadavg().map((l) => +l.toFixed(2)),
  date: new Date().toISOString(),
};
console.log(`massivit bench: ${machine.cpu}, ${machine.cores} cores, load ${machine.loadBefore.join(' ')}; threads ${threads}, batch ${batch}`);

const images = imageSet(count);
console.log(`images: ${count} files in ${images}`);

// Same model, same input: the torch reference's hidden states against ONNX Runtime's.
let check;
if (!flag('no-torch')) {
  execFileSync('node', ['bench/check-dump.mjs', model, join(TMP, 'check.bin')], { cwd: ROOT, stdio: 'inherit' });
  check = json(PY, ['bench/torch_reference.py', 'check', model, join(TMP, 'check.bin')], { PYTHONWARNINGS: 'ignore' });
  console.log(`torch vs ONNX Runtime, hidden states of ${check.images} photos x ${check.layers} layers: max |diff| ${check.maxAbsDiff.toExponential(2)} (largest |a| ${fmt(check.maxAbsActivation)}), median rel. diff ${check.medianRelDiff.toExponential(2)}`);
}

const runs = { bare: [], scan: [] };
for (let r = 0; r < rounds; r++) {
  // Alternate which goes first, so a slow spell on the shared machine does not always hit the same contender.
  if (r % 2 === 0) {
    runs.bare.push(bare(images));
    runs.scan.push(scanRun(images, `scan-${r}`));
  } else {
    runs.scan.push(scanRun(images, `scan-${r}`));
    runs.bare.push(bare(images));
  }
  console.log(`round ${r + 1}/${rounds}: bare ${fmt(runs.bare[r].seconds)} s, scan ${fmt(runs.scan[r].seconds)} s`);
}
let torch;
if (!flag('no-torch')) {
  torch = json(PY, ['bench/torch_reference.py', 'run', model, images, '--threads', String(threads), '--batch', String(batch)], { PYTHONWARNINGS: 'ignore' });
  console.log(`torch: ${fmt(torch.seconds)} s`);
}
let rss;
if (!flag('no-rss')) {
  const big = imageSet(rssCount);
  rss = scanRun(big, 'scan-rss');
  if (!flag('keep')) removeImageSet(rssCount);
  console.log(`scan of ${rssCount}: ${fmt(rss.seconds)} s, peak RSS ${fmt(rss.maxRssMiB)} MiB`);
}
machine.loadAfter = loadavg().map((l) => +l.toFixed(2));

const best = (xs, key) => Math.min(...xs.map((x) => x[key]));
const row = (name, xs) => ({ name, best: best(xs, 'seconds'), median: median(xs.map((x) => x.seconds)), cpu: best(xs, 'cpuSeconds'), rss: Math.max(...xs.map((x) => x.maxRssMiB)), n: xs[0].images });
const rows = [row('bare inference (untapped, same pipeline)', runs.bare), row('massivit scan (all layers, all stats)', runs.scan)];
if (torch) rows.push(row('torch hooks reference (top-k + median)', [torch]));
console.log('\n| contender | images | best s | median s | img/s (best) | CPU s (best) | peak RSS MiB | vs bare (best) |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(`| ${r.name} | ${r.n} | ${fmt(r.best, 2)} | ${fmt(r.median, 2)} | ${fmt(r.n / r.best)} | ${fmt(r.cpu)} | ${fmt(r.rss)} | ${fmt(r.best / rows[0].best, 3)}x |`);
const ratio = rows[1].best / rows[0].best;
const medRatio = median(runs.scan.map((s, i) => s.seconds / runs.bare[i].seconds));
const cpuRatio = median(runs.scan.map((s, i) => s.cpuSeconds / runs.bare[i].cpuSeconds));
console.log(`\ntarget 1: scan / bare = ${fmt(ratio, 3)} (best of ${rounds}); per-round median ${fmt(medRatio, 3)}, CPU time per-round median ${fmt(cpuRatio, 3)}  (target <= 1.05)`);
console.log(`rounds (bare / scan s): ${runs.bare.map((b, i) => `${fmt(b.seconds, 2)} / ${fmt(runs.scan[i].seconds, 2)}`).join(', ')}`);
if (torch) console.log(`target 2: torch / scan = ${fmt(torch.seconds / rows[1].best, 2)}x  (target >= 4x)`);
if (rss) {
  const small = rows[1].rss;
  console.log(`target 3: peak RSS ${fmt(small)} MiB at ${count} images, ${fmt(rss.maxRssMiB)} MiB at ${rssCount}: ${fmt((rss.maxRssMiB / small - 1) * 100)}%  (target within 10%)`);
}
console.log(`load average before ${machine.loadBefore.join(' ')}, after ${machine.loadAfter.join(' ')}`);
writeFileSync(join(TMP, 'results.json'), JSON.stringify({ machine, threads, batch, rounds, count, rssCount, check, runs, torch, rss }, null, 2) + '\n');
