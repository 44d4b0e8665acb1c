import { Command } from 'commander';
import { invalidOption } from '../../contracts/errors.js';
import { describeFigures, recaptureView, writeScanReport } from '../../pipelines/report.js';
import { rangeFlag } from '../options.js';
import { checkInputFile, checkInputFolder, checkModelPath, checkOutputFile, checkOutputFolder } from '../../pipelines/paths.js';
import { resolveModel } from '../../model/registry.js';

interface ReportFlags {
  html?: string;
  figures: string | boolean;
  model?: string;
  layer?: number;
  image?: string;
  images?: string;
  intervene?: string;
}

export function reportCommand(): Command {
  return new Command('report')
    .description('re-create <scanDir>/report.html and figures/*.png from a finished scan (no model needed)')
    .argument('<scanDir>', 'the --out folder of a scan')
    .option('--html <file>', 'write the HTML here instead of <scanDir>/report.html')
    .option('--figures <dir>', 'write PNG figures here instead of <scanDir>/figures')
    .option('--no-figures', 'write the HTML only')
    .option('--model <path>', 'the scan\'s model: re-record the feature × token view (with --layer/--image)')
    .option('--layer <n>', 'feature × token view: this layer (0 = embeddings) instead of the emergence layer', rangeFlag('layer'))
    .option('--image <path>', 'feature × token view: this image (relative to the scanned folder)')
    .option('--images <dir>', 'where the scanned images are now, if they moved (thumbnails, --image)')
    .option('--intervene <file>', 'show this intervene.json (default: <scanDir>/intervene.json when present)')
    .action(async (scanDir: string, flags: ReportFlags) => {
      if ((flags.layer !== undefined || flags.image !== undefined) && !flags.model) {
        throw invalidOption('--model', 'the model of the scan (needed to choose --layer or --image)', flags.model);
      }
      checkInputFolder('<scanDir>', scanDir);
      if (flags.html !== undefined) checkOutputFile('--html', flags.html);
      if (typeof flags.figures === 'string') checkOutputFolder('--figures', flags.figures);
      if (flags.images !== undefined) checkInputFolder('--images', flags.images);
      if (flags.intervene !== undefined) checkInputFile('--intervene', flags.intervene);
      const model = flags.model === undefined ? undefined : resolveModel(flags.model); // a name under MASSIVIT_MODELS_DIR, or a path
      if (model !== undefined) checkModelPath('--model', model);
      if (model) {
        const view = await recaptureView(scanDir, { model, layer: flags.layer, image: flags.image, images: flags.images });
        if (view) process.stderr.write(`Feature × token view → ${view}\n`);
      }
      const result = await writeScanReport(scanDir, { html: flags.html, figures: flags.figures === true ? undefined : flags.figures, imagesRoot: flags.images, intervene: flags.intervene });
      for (const note of result.notes) process.stderr.write(`massivit: report: ${note}\n`);
      process.stderr.write(`Report → ${result.html}\n`);
      if (result.figures) process.stderr.write(`${describeFigures(result.figures)}\n`);
    });
}
