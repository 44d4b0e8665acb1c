/** The CLI only wires commands; each command is one file. Errors map to exit codes here and nowhere else. */
import { Command, CommanderError } from 'commander';
import { diskError } from '../contracts/atomic.js';
import { MassivitError } from '../contracts/errors.js';
import { VERSION } from '../contracts/version.js';
import { scanCommand } from './commands/scan.js';
import { modelsCommand } from './commands/models.js';
import { demoCommand } from './commands/demo.js';
import { interveneCommand } from './commands/intervene.js';
import { biasCommand } from './commands/bias.js';
import { mapCommand } from './commands/map.js';
import { reportCommand } from './commands/report.js';
import { compareCommand } from './commands/compare.js';
import { mergeCommand } from './commands/merge.js';
import { registersCommand } from './commands/registers.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Subcommands added with addCommand do not inherit settings: throw instead of exiting, everywhere. */
function throwOnExit(cmd: Command): Command {
  // Commander's own errors (a bad flag value, a missing option) read like ours: one `massivit: ...` line.
  cmd.exitOverride().configureOutput({ writeErr: (s) => process.stderr.write(s.replace(/^error: /, 'massivit: ')) });
  for (const sub of cmd.commands) throwOnExit(sub);
  return cmd;
}

export function program(): Command {
  const root = new Command('massivit')
    .description('Find massive activations and register behaviour inside Vision Transformers (ONNX)')
    .version(VERSION)
    .addCommand(scanCommand())
    .addCommand(modelsCommand())
    .addCommand(demoCommand())
    .addCommand(interveneCommand())
    .addCommand(biasCommand())
    .addCommand(mapCommand())
    .addCommand(reportCommand())
    .addCommand(compareCommand())
    .addCommand(mergeCommand())
    .addCommand(registersCommand());
  return throwOnExit(root);
}

/**
 * A closed or full standard output (`--json | head`, `> /dev/full`) is the reader's or the disk's problem,
 * not a crash: one line, and exit 0 for a reader that stopped early, 2 for a disk error.
 */
function guardStdout(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT_OK);
    process.stderr.write(`massivit: ${diskError(err, 'standard output', 'the scan folder is complete')?.message ?? `cannot write standard output: ${err.message}`}\n`);
    process.exit(EXIT_USAGE);
  });
}

export async function main(argv: string[]): Promise<number> {
  guardStdout();
  try {
    await program().parseAsync(argv);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (err instanceof MassivitError) {
      process.stderr.write(`massivit: ${err.message}\n${err.hint ? `  hint: ${err.hint}\n` : ''}`);
      return err.code === 'BAD_OPTION' || err.code === 'BAD_MODEL' || err.code === 'BAD_OUTPUT' ? EXIT_USAGE : EXIT_FAILURE;
    }
    const disk = diskError(err, (err as NodeJS.ErrnoException).path ?? 'standard output', 'nothing else was changed');
    if (disk) {
      process.stderr.write(`massivit: ${disk.message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`massivit: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT_FAILURE;
  }
}
