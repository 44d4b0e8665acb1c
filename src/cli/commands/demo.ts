import { Command } from 'commander';
import { demo } from '../../pipelines/demo.js';
import { checkInputFolder, checkOutputFolder } from '../../pipelines/paths.js';

export function demoCommand(): Command {
  return new Command('demo')
    .description('scan the bundled photos with every local model (or the synthetic demo pair) into ./reports/demo/')
    .option('--images <dir>', 'image folder (default: the photos bundled with massivit)')
    .option('--out <dir>', 'output folder (default: reports/demo in the current folder)')
    .action(async (flags: { images?: string; out?: string }) => {
      // Before any model loads: a mistyped folder costs nothing.
      if (flags.images !== undefined) checkInputFolder('--images', flags.images);
      if (flags.out !== undefined) checkOutputFolder('--out', flags.out);
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const result = await demo({ ...flags, log });
      for (const { summary, outDir } of result.scans) {
        const e = summary.emergence;
        const where = summary.massive[0];
        log(
          `${summary.model.name}${summary.model.synthetic ? ' [SYNTHETIC]' : ''}: ${summary.images.scanned} images, ` +
            (e.firstLayer === null ? 'no massive activations' : `massive activations layers ${e.firstLayer}–${e.lastLayer}`) +
            (where ? `, e.g. dim ${where.dim} in ${where.role} token ${where.token}` : '') +
            ` → ${outDir}`,
        );
      }
    });
}
