import { Command, Option } from 'commander';
import { DEFAULT_CRITERIA } from '../../contracts/criteria.js';
import { parseShard, shardFromEnv } from '../../images/shard.js';
import { DEVICES, type Device } from '../../run/session.js';
import { scan } from '../../pipelines/scan.js';
import { reportAfterScan } from '../../pipelines/report.js';
import { STORE_FILE } from '../../contracts/files.js';
import { FAMILIES, type Family } from '../../model/config.js';
import { loadModel } from '../../model/load.js';
import { resolveModel } from '../../model/registry.js';
import { rangeFlag } from '../options.js';
import { checkBatchMemory } from '../../pipelines/checks.js';
import { checkBareModelFlags, checkInputFolder, checkModelPath, checkOutputFolder } from '../../pipelines/paths.js';
import { progressBar } from '../progress.js';
import { nonFiniteLine } from '../../report/sections-non-finite.js';

interface ScanFlags {
  model: string;
  images: string;
  out: string;
  batch?: number;
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
  prune?: boolean;
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
    .option('-b, --batch <n>', 'images per forward pass (default 8; fewer for big models, 1 for a fixed-batch graph)', rangeFlag('batch'))
    .addOption(new Option('--device <device>', 'execution provider').choices(DEVICES).default('auto'))
    .option('--threads <n>', 'ONNX Runtime intra-op threads (0 = all cores)', rangeFlag('threads'), 0)
    .option('--abs-threshold <n>', 'massive: |a| greater than this', rangeFlag('absThreshold'), DEFAULT_CRITERIA.absThreshold)
    .option('--ratio-threshold <n>', 'massive: |a| / median |a| at least this', rangeFlag('ratioThreshold'), DEFAULT_CRITERIA.ratioThreshold)
    .option('--near-miss-factor <x>', 'near-miss band: both thresholds times this', rangeFlag('nearMissFactor'), DEFAULT_CRITERIA.nearMissFactor)
    .option('--outlier-ratio <n>', 'outlier feature: |a| above this × median ...', rangeFlag('outlierRatio'), DEFAULT_CRITERIA.outlierRatio)
    .option('--outlier-share <x>', '... in at least this share of tokens', rangeFlag('outlierShare'), DEFAULT_CRITERIA.outlierShare)
    .option('--top-k <n>', 'cells kept per image and layer', rangeFlag('topK'), 16)
    .option('--limit <n>', 'scan at most n images', rangeFlag('limit'))
    .option('--shard <i/N>', 'scan shard i of N (0-based); Slurm arrays and k8s Indexed Jobs are detected')
    .option('--max-pixels <n>', 'refuse images with more pixels (decompression bombs)', rangeFlag('maxPixels'), 100_000_000)
    .option('--json', 'print scan.json to stdout')
    .option('--no-report', 'skip report.html and figures/ (`massivit report <out>` writes them later)')
    .option('--no-norms', 'skip the token-norm statistics (scan.json "norms")')
    .option('--norm-threshold <n>', 'high-norm token: L2 norm above this', rangeFlag('normThreshold'), 150)
    .option('--prune', 'on a resume, drop the results of files no longer found under --images (default: keep them)')
    .option('--attention', 'tap attention: sink shares per layer and head, CLS attention maps (scan.json "attention")')
    .addOption(new Option('--family <family>', 'bare .onnx without config.json: model family').choices(FAMILIES))
    .option('--registers <n>', 'bare .onnx: number of register tokens', rangeFlag('registers'))
    .option('--patch-size <n>', 'bare .onnx: patch size in pixels', rangeFlag('patchSize'))
    .option('--image-size <n>', 'input size in pixels: a bare .onnx\'s size, or another size for a DINOv2 / DINOv2-reg model (e.g. 518)', rangeFlag('imageSize'))
    .action(async (flags: ScanFlags) => {
      // Every path and flag is checked before the model loads: a typo costs nothing and says what it is.
      const modelPath = resolveModel(flags.model);
      checkModelPath('--model', modelPath);
      checkInputFolder('--images', flags.images);
      checkOutputFolder('--out', flags.out, STORE_FILE);
      const shard = flags.shard ? parseShard(flags.shard) : shardFromEnv(process.env);
      const bare = { family: flags.family, registers: flags.registers, patchSize: flags.patchSize, imageSize: flags.imageSize };
      // --image-size also applies to a folder model: DINOv2 graphs run at another size (model/resolution.ts).
      checkBareModelFlags(modelPath, { '--family': bare.family, '--registers': bare.registers, '--patch-size': bare.patchSize });
      const bar = progressBar();
      const model = loadModel(modelPath, bare);
      if (flags.batch !== undefined) checkBatchMemory(flags.batch, model.arch.numLayers + 1, model.tokens.sequenceLength, model.arch.hiddenSize);
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
        shard,
        criteria: {
          absThreshold: flags.absThreshold,
          ratioThreshold: flags.ratioThreshold,
          nearMissFactor: flags.nearMissFactor,
          outlierRatio: flags.outlierRatio,
          outlierShare: flags.outlierShare,
        },
        norms: flags.norms,
        view: flags.report,
        attention: flags.attention,
        normThreshold: flags.normThreshold,
        prune: flags.prune,
        onProgress: bar,
        onNotice: (m) => process.stderr.write(`massivit: ${m}\n`),
      });
      bar.end();
      // The next stage: report.html and the figures, from the scan folder alone.
      if (flags.report) await reportAfterScan({ outDir, onNotice: (m) => process.stderr.write(`massivit: ${m}\n`) });
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
