import { Command } from 'commander';
import { merge } from '../../pipelines/merge.js';
import { checkInputFolder, checkOutputFolder } from '../../pipelines/paths.js';

interface MergeFlags {
  out: string;
  json?: boolean;
  report: boolean;
}

export function mergeCommand(): Command {
  return new Command('merge')
    .description('Combine shard scans (--shard i/N, Slurm arrays, Kubernetes Indexed Jobs) into one scan; all N shards give the scan.json of a single run')
    .argument('<shardOut...>', 'the --out folders of the shard scans')
    .requiredOption('-o, --out <dir>', 'output folder for the merged scan (new, empty, or an earlier merge)')
    .option('--no-report', 'write scan.json and scan.sqlite only')
    .option('--json', 'print the merged scan.json to stdout')
    .action(async (shards: string[], flags: MergeFlags) => {
      for (const dir of shards) checkInputFolder('<shardOut>', dir);
      checkOutputFolder('--out', flags.out); // merge itself checks what an existing --out holds
      const { summary, outDir, shards: merged } = await merge({
        shards,
        out: flags.out,
        report: flags.report,
        onNotice: (m) => process.stderr.write(`massivit: ${m}\n`),
      });
      if (flags.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
      const part = summary.shard ? `; partial: shards ${summary.shard.map((s) => `${s.index}/${s.count}`).join(', ')} only` : '';
      process.stderr.write(`Merged ${merged.length} stores (${merged.join(', ')}): ${summary.images.scanned} images, ${summary.images.failed} failed${part} → ${outDir}\n`);
    });
}
