import { Command } from 'commander';
import { describeFigures, writeScanReport } from '../../report/index.js';

export function reportCommand(): Command {
  return new Command('report')
    .description('re-create <scanDir>/report.html and figures/*.png from a finished scan (no model needed)')
    .argument('<scanDir>', 'the --out folder of a scan')
    .option('--html <file>', 'write the HTML here instead of <scanDir>/report.html')
    .option('--figures <dir>', 'write PNG figures here instead of <scanDir>/figures')
    .option('--no-figures', 'write the HTML only')
    .action(async (scanDir: string, flags: { html?: string; figures: string | boolean }) => {
      const result = await writeScanReport(scanDir, { html: flags.html, figures: flags.figures === true ? undefined : flags.figures });
      for (const note of result.notes) process.stderr.write(`massivit: report: ${note}\n`);
      process.stderr.write(`Report → ${result.html}\n`);
      if (result.figures) process.stderr.write(`${describeFigures(result.figures)}\n`);
    });
}
