import { Command } from 'commander';
import { describeFigures, writeComparison } from '../../pipelines/report.js';
import { checkInputFolder, checkOutputFolder } from '../../pipelines/paths.js';

export function compareCommand(): Command {
  return new Command('compare')
    .description('compare scans side by side (e.g. a model with and without registers) in one HTML report')
    .argument('<scanDir...>', 'the --out folders of the scans to compare')
    .requiredOption('-o, --out <dir>', 'output folder (compare.html, figures/)')
    .option('--no-figures', 'write the HTML only')
    .action(async (scanDirs: string[], flags: { out: string; figures: boolean }) => {
      for (const dir of scanDirs) checkInputFolder('<scanDir>', dir);
      checkOutputFolder('--out', flags.out);
      const result = await writeComparison(scanDirs, { out: flags.out, figures: flags.figures ? undefined : false });
      for (const note of result.notes) process.stderr.write(`massivit: compare: ${note}\n`);
      process.stderr.write(`Comparison of ${scanDirs.length} scan${scanDirs.length === 1 ? '' : 's'} → ${result.html}\n`);
      if (result.figures) process.stderr.write(`${describeFigures(result.figures)}\n`);
    });
}
