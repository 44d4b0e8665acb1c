import { Command, Option } from 'commander';
import { DEFAULT_CRITERIA } from '../../analyze/criteria.js';
import { parseShard, shardFromEnv } from '../../images/shard.js';
import { DEVICES, type Device } from '../../run/session.js';
import { scan } from '../../scan.js';
import { FAMILIES, type Family } from '../../model/config.js';
import { loadModel } from '../../model/load.js';
import { resolveModel } from '../../model/registry.js';
import { intFlag, numberFlag } from '../options.js';
import { progressBar } from '../progress.js';
import { nonFiniteLine } from '../../report/sections-non-finite.js';

export interface ScanFlags {
  model: string;
  images: string;
  out: string;
  batch: number;
  device: Device;
  threads: number;
  absThreshold: number;
  ratioThreshold: number;
  nearMissFactor: number;
  outlierRatio: number;
  outlierShare: number;
  topK: number;
  limit?: number;
  shard?: string;
  maxPixels: number;
  json?: boolean;
  norms: boolean;
  report: boolean;
  attention?: boolean;
  normThreshold: number;
  family?: Family;
  registers?: number;
  patchSize?: number;
  imageSize?: number;
}

export function scanCommand(): Command {
  return new Command('scan')
    .description('Scan an image folder with a ViT and locate its massive activations')
    .requiredOption('-m, --model <path>', 'model folder (HF layout) or .onnx file')
    .requiredOption('-i, --images <dir>', 'image folder (walked recursively)')
    .requiredOption('-o, --out <dir>', 'output folder (scan.json, scan.sqlite, report.html)')
    .option('-b, --batch <n>', 'images per forward pass', intFlag(1), 8)
    .addOption(new Option('--device <device>', 'execution provider').choices(DEVICES).default('auto'))
    .option('--threads <n>', 'ONNX Runtime intra-op threads (0 = all cores)', intFlag(0), 0)
    .option('--abs-threshold <n>', 'massive: |a| greater than this', numberFlag, DEFAULT_CRITERIA.absThreshold)
    .option('--ratio-threshold <n>', 'massive: |a| / median |a| at least this', numberFlag, DEFAULT_CRITERIA.ratioThreshold)
    .option('--near-miss-factor <x>', 'near-miss band: both thresholds times this', numberFlag, DEFAULT_CRITERIA.nearMissFactor)
    .option('--outlier-ratio <n>', 'outlier feature: |a| above this × median ...', numberFlag, DEFAULT_CRITERIA.outlierRatio)
    .option('--outlier-share <x>', '... in at least this share of tokens', numberFlag, DEFAULT_CRITERIA.outlierShare)
    .option('--top-k <n>', 'cells kept per image and layer', intFlag(1), 16)
    .option('--limit <n>', 'scan at most n images', intFlag(1))
    .option('--shard <i/N>', 'scan shard i of N (0-based); Slurm arrays and k8s Indexed Jobs are detected')
    .option('--max-pixels <n>', 'refuse images with more pixels (decompression bombs)', intFlag(1), 100_000_000)
    .option('--json', 'print scan.json to stdout')
    .option('--no-report', 'skip report.html and figures/ (`massivit report <out>` writes them later)')
    .option('--no-norms', 'skip the token-norm statistics (scan.json "norms")')
    .option('--norm-threshold <n>', 'high-norm token: L2 norm above this', numberFlag, 150)
    .option('--attention', 'tap attention: sink shares per layer and head, CLS attention maps (scan.json "attention")')
    .addOption(new Option('--family <family>', 'bare .onnx without config.json: model family').choices(FAMILIES))
    .option('--registers <n>', 'bare .onnx: number of register tokens', intFlag(0))
    .option('--patch-size <n>', 'bare .onnx: patch size in pixels', intFlag(1))
    .option('--image-size <n>', 'bare .onnx: input size in pixels', intFlag(1))
    .action(async (flags: ScanFlags) => {
      const bar = progressBar();
      const model = loadModel(resolveModel(flags.model), { family: flags.family, registers: flags.registers, patchSize: flags.patchSize, imageSize: flags.imageSize });
      const { summary, outDir } = await scan({
        model,
        images: flags.images,
        out: flags.out,
        batch: flags.batch,
        device: flags.device,
        threads: flags.threads,
        topK: flags.topK,
        limit: flags.limit,
        maxPixels: flags.maxPixels,
        shard: flags.shard ? parseShard(flags.shard) : shardFromEnv(process.env),
        criteria: {
          absThreshold: flags.absThreshold,
          ratioThreshold: flags.ratioThreshold,
          nearMissFactor: flags.nearMissFactor,
          outlierRatio: flags.outlierRatio,
          outlierShare: flags.outlierShare,
        },
        norms: flags.norms,
        report: flags.report,
        attention: flags.attention,
        normThreshold: flags.normThreshold,
        onProgress: bar,
        onNotice: (m) => process.stderr.write(`massivit: ${m}\n`),
      });
      bar.end();
      for (const w of summary.warnings) process.stderr.write(`massivit: warning: ${w}\n`);
      const nonFinite = nonFiniteLine(summary);
      if (nonFinite) process.stderr.write(`massivit: warning: ${nonFinite}\n`);
      if (flags.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
      else process.stderr.write(describeScan(summary, outDir));
    });
}

function describeScan(s: Awaited<ReturnType<typeof scan>>['summary'], outDir: string): string {
  const lines = [`Scanned ${s.images.scanned} images (${s.images.failed} failed) with ${s.model.name} → ${outDir}`];
  const e = s.emergence;
  lines.push(e.firstLayer === null ? '  no massive activations under the criterion' : `  massive activations from layer ${e.firstLayer} to ${e.lastLayer}`);
  for (const g of s.massive.slice(0, 5)) lines.push(`  layer ${g.layer} dim ${g.dim} ${g.role} token ${g.token}: ${g.images} images, mean ${g.meanValue.toFixed(1)}`);
  const n = s.nearMissEmergence;
  if (n.firstLayer !== null) lines.push(`  near-misses from layer ${n.firstLayer} to ${n.lastLayer} (${s.nearMisses.length} groups)`);
  return lines.join('\n') + '\n';
}
