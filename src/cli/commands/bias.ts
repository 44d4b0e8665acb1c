import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { bias } from '../../pipelines/bias.js';
import { BIAS_HTML } from '../../contracts/files.js';
import type { BiasJson } from '../../outputs/bias-json.js';
import { resolveModel } from '../../model/registry.js';
import { checkInputFolder, checkModelPath, checkOutputFolder } from '../../pipelines/paths.js';
import { biasPage } from '../../report/sections-bias.js';
import { DEVICES, type Device } from '../../run/session.js';
import { atFlag, rangeFlag } from '../options.js';

interface BiasFlags {
  model: string;
  images: string;
  out: string;
  at: number | 'auto';
  scan?: string;
  batch: number;
  device: Device;
  threads: number;
  limit?: number;
  json?: boolean;
}

export function biasCommand(): Command {
  return new Command('bias')
    .description('Give every attention after the emergence layer an explicit key/value bias (the sinks\' mean k′, v′), remove the massive activations, and measure whether the bias does their job')
    .requiredOption('-m, --model <path>', 'model folder (HF layout) or .onnx file')
    .requiredOption('-i, --images <dir>', 'image folder (k′, v′ are averaged over it; effects are measured on it)')
    .requiredOption('-o, --out <dir>', 'output folder (bias.json, bias.html; scan/ when no --scan is given)')
    .option('--at <layer|auto>', "hidden_states index where the massive activations are removed, or 'auto' = the emergence layer", atFlag, 'auto' as const)
    .option('--scan <dir>', 'take the emergence layer and the massive cells from this scan instead of scanning --images')
    .option('-b, --batch <n>', 'images per forward pass', rangeFlag('batch'), 8)
    .addOption(new Option('--device <device>', 'execution provider').choices(DEVICES).default('auto'))
    .option('--threads <n>', 'ONNX Runtime intra-op threads (0 = all cores)', rangeFlag('threads'), 0)
    .option('--limit <n>', 'use at most n images', rangeFlag('limit'))
    .option('--json', 'print bias.json to stdout instead of the table')
    .action(async (flags: BiasFlags) => {
      const model = resolveModel(flags.model);
      checkModelPath('--model', model);
      checkInputFolder('--images', flags.images);
      if (flags.scan !== undefined) checkInputFolder('--scan', flags.scan);
      checkOutputFolder('--out', flags.out);
      const { report, path, outDir } = await bias({
        model,
        images: flags.images,
        out: flags.out,
        at: flags.at,
        scan: flags.scan,
        batch: flags.batch,
        device: flags.device,
        threads: flags.threads,
        limit: flags.limit,
        onNotice: (m) => process.stderr.write(`massivit: ${m}\n`),
      });
      const html = join(outDir, BIAS_HTML);
      writeFileSync(html, biasPage(report));
      process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : describeBias(report));
      process.stderr.write(`massivit: wrote ${path} and ${html}\n`);
    });
}

const fmt = (v: number | null, digits = 4) => (v === null ? '-' : v.toFixed(digits));
const row = ([name, ...rest]: string[]) => name.padEnd(22) + rest.map((v) => v.padStart(12)).join('');

/** The table printed on stdout. */
function describeBias(r: BiasJson): string {
  const lines = [
    `${r.model.name}${r.model.synthetic ? ' (SYNTHETIC)' : ''}: ${r.sinks.removal} removed at layer ${r.layer} (${r.at.source}); bias slot in blocks ${r.blocks[0]}–${r.blocks[r.blocks.length - 1]}; ${r.images.used} images, output ${r.model.output}`,
    `sinks: tokens ${r.sinks.tokens.join(', ')}; slot logit log(${r.sinks.tokens.length}) = ${r.slot.logit.toFixed(3)}`,
    '',
    row(['variant', 'top1 agree', 'mean KL', 'max KL', 'cos mean', 'cos min', 'sink share', 'slot share']),
  ];
  for (const x of r.results) lines.push(row([x.variant, fmt(x.top1Agreement, 3), fmt(x.meanKL), fmt(x.maxKL), fmt(x.cosine.mean), fmt(x.cosine.min), fmt(x.sinkShare, 3), fmt(x.slotShare, 3)]));
  lines.push('', `recovered: ${r.recovered === null ? '-' : `${(100 * r.recovered).toFixed(1)}% of zero's damage undone by the bias`}`);
  return lines.join('\n') + '\n';
}
