/**
 * Big models: scan vs bare ONNX Runtime inference on ViT-L/14- and ViT-G/14-shaped DINOv2-reg models with
 * random weights (bench/vit-shaped.mjs writes them under bench/.tmp, external weights, and they are deleted
 * afterwards). Each contender runs in a fresh process (bench/bare.mjs, bench/scan-child.mjs) on the same few
 * images, rounds alternating; prints one JSON line per run and a summary, writes bench/.tmp/big-results.json.
 * Usage: npm run build && node bench/big.mjs [--models vit-l,vit-g] [--images 4] [--rounds 1] [--threads 2] [--batch 2] [--keep]
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { writeVitShaped } from './vit-shaped.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const models = opt('models', 'vit-l,vit-g').split(',');
const count = Number(opt('images', '4'));
const rounds = Number(opt('rounds', '1'));
const threads = opt('threads', '2');
const batch = opt('batch', '2');
const tmp = join('bench', '.tmp');
const images = join(tmp, `big-images-${count}`);
mkdirSync(images, { recursive: true });
const photos = readdirSync('images').filter((f) => /\.(png|jpe?g)$/i.test(f)).sort().slice(0, count);
for (const f of photos) if (!existsSync(join(images, f))) copyFileSync(join('images', f), join(images, f));

const child = (script, extra) => JSON.parse(execFileSync(process.execPath, [join('bench', script), ...extra], { encoding: 'utf8', maxBuffer: 1 << 24 }).trim().split('\n').at(-1));
const results = [];
for (const kind of models) {
  const dir = join(tmp, kind);
  const t = performance.now();
  const { bytes } = writeVitShaped(kind, dir);
  console.error(`${kind}: ${(bytes / 2 ** 30).toFixed(2)} GiB of weights written in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  try {
    for (let r = 0; r < rounds; r++) {
      for (const contender of ['bare', 'scan']) {
        const load = loadavg()[0];
        const out = join(tmp, `${kind}-scan-out`);
        rmSync(out, { recursive: true, force: true });
        const res = contender === 'bare' ? child('bare.mjs', [dir, images, threads, batch]) : child('scan-child.mjs', [dir, images, out, threads, batch]);
        const row = { model: kind, weightsGiB: bytes / 2 ** 30, contender, round: r, loadBefore: load, loadAfter: loadavg()[0], ...res, secondsPerImage: res.seconds / res.images };
        results.push(row);
        console.log(JSON.stringify(row));
      }
    }
  } finally {
    if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
}
writeFileSync(join(tmp, 'big-results.json'), JSON.stringify({ date: new Date().toISOString(), threads, batch, images: count, rounds, results }, null, 2));
for (const kind of models) {
  const of = (c) => results.filter((r) => r.model === kind && r.contender === c);
  const best = (c) => Math.min(...of(c).map((r) => r.seconds));
  console.log(`${kind}: bare ${best('bare').toFixed(1)} s, scan ${best('scan').toFixed(1)} s (ratio ${(best('scan') / best('bare')).toFixed(2)}), peak RSS bare ${Math.max(...of('bare').map((r) => r.maxRssMiB)).toFixed(0)} MiB, scan ${Math.max(...of('scan').map((r) => r.maxRssMiB)).toFixed(0)} MiB`);
}
