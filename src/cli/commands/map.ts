import { Command, Option } from 'commander';
import { imageMap, type MapKind } from '../../pipelines/map.js';
import { rangeFlag } from '../options.js';
import { checkInputFolder, checkModelPath, checkOutputFile } from '../../pipelines/paths.js';
import { resolveModel } from '../../model/registry.js';
import { MassivitError } from '../../contracts/errors.js';

interface MapFlags {
  image: string;
  layer?: number;
  block?: number;
  kind: MapKind;
  out: string;
  images?: string;
  model?: string;
  colour: 'linear' | 'log';
  json?: boolean;
}

export function mapCommand(): Command {
  return new Command('map')
    .alias('normmap')
    .description("Draw one image's token-norm map (or CLS attention map) from a scan over the photo")
    .argument('<scanDir>', 'the --out folder of a scan')
    .requiredOption('--image <rel>', 'image path relative to the scanned folder (as scan.json lists it)')
    .option('--layer <n>', 'the layer (hidden_states index) of a norm map', rangeFlag('layer'))
    .option('--block <b>', 'the block (0-based) of an attention map; it reads layer b', rangeFlag('layer'))
    .requiredOption('-o, --out <file.png>', 'PNG to write')
    .addOption(new Option('--kind <kind>', 'what to draw').choices(['norm', 'attention']).default('norm'))
    .addOption(new Option('--colour <scale>', 'colour scale').choices(['linear', 'log']).default('linear'))
    .option('--images <dir>', 'the scanned image folder (default: recorded in the scan)')
    .option('--model <path>', "the scanned model (default: the scan's recorded preprocessing)")
    .option('--json', 'print the grid as JSON')
    .action(async (scanDir: string, flags: MapFlags) => {
      // One word per idea: a norm map is of a layer, an attention map of a block. `--layer` with
      // `--kind attention` is still read as the block, as before, so existing commands keep working.
      const where = flags.kind === 'attention' ? (flags.block ?? flags.layer) : flags.layer;
      if (flags.kind === 'norm' && flags.block !== undefined) throw new MassivitError('BAD_OPTION', '--block goes with --kind attention; a norm map takes --layer <L>');
      if (where === undefined) throw new MassivitError('BAD_OPTION', flags.kind === 'attention' ? 'an attention map needs --block <b>' : 'a norm map needs --layer <L>');
      checkInputFolder('<scanDir>', scanDir);
      checkOutputFile('--out', flags.out);
      if (flags.images !== undefined) checkInputFolder('--images', flags.images);
      const model = flags.model === undefined ? undefined : resolveModel(flags.model); // a name under MASSIVIT_MODELS_DIR, or a path
      if (model !== undefined) checkModelPath('--model', model);
      const map = await imageMap({ scanDir, image: flags.image, layer: where, kind: flags.kind, out: flags.out, images: flags.images, model, colour: flags.colour });
      if (flags.json) process.stdout.write(JSON.stringify({ kind: map.kind, layer: map.layer, image: map.image, cls: map.cls, registers: map.registers, grid: map.grid }) + '\n');
      process.stderr.write(`massivit: wrote ${flags.out}\n`);
    });
}
