import { Command, InvalidArgumentError, Option } from 'commander';
import { intervene, INTERVENTION_MODES, INTERVENTION_TARGETS, parseCells, type InterveneJson, type InterventionMode, type InterventionTarget } from '../../pipelines/intervene.js';
import { targetText } from '../../report/sections-intervene.js';
import { resolveModel } from '../../model/registry.js';
import { DEVICES, type Device } from '../../run/session.js';
import { atFlag, rangeFlag } from '../options.js';
import { checkInputFolder, checkModelPath, checkOutputFolder } from '../../pipelines/paths.js';
import { errorMessage } from '../../contracts/errors.js';
import { describeFigures, writeScanReport } from '../../pipelines/report.js';

interface InterveneFlags {
  model: string;
  images: string;
  out: string;
  at: number | 'auto';
  mode: InterventionMode[];
  target?: InterventionTarget;
  scan?: string;
  cells?: string;
  seed: number;
  batch: number;
  device: Device;
  threads: number;
  limit?: number;
  json?: boolean;
  report: boolean;
}

/** `all`, `both` (zero,mean: the flag's meaning before noise and shuffle existed) or a comma list. */
function modeFlag(value: string): InterventionMode[] {
  const modes = value === 'all' ? [...INTERVENTION_MODES] : value === 'both' ? ['zero', 'mean'] : value.split(',').map((m) => m.trim());
  for (const m of modes) if (!INTERVENTION_MODES.includes(m as InterventionMode)) throw new InvalidArgumentError(`expected all, both or a comma list of ${INTERVENTION_MODES.join(', ')}, got '${value}'`);
  return [...new Set(modes)] as InterventionMode[];
}

export function interveneCommand(): Command {
  return new Command('intervene')
    .description('Set the massive activations (or the registers, CLS, given cells) to 0, their mean, noise or another image\'s values, and measure what the model does (with a random control)')
    .requiredOption('-m, --model <path>', 'model folder (HF layout) or .onnx file')
    .requiredOption('-i, --images <dir>', 'image folder (class sub-folders enable the kNN check)')
    .requiredOption('-o, --out <dir>', 'output folder (intervene.json; scan/ when no --scan is given)')
    .option('--at <layer|auto>', "hidden_states index to edit, or 'auto' = the emergence layer (registers/cls: from layer 0)", atFlag, 'auto' as const)
    .option('--mode <modes>', 'zero, mean, noise, shuffle: a comma list, all, or both (= zero,mean)', modeFlag, [...INTERVENTION_MODES])
    .addOption(new Option('--target <what>', 'massive cells at one layer, register or CLS tokens at every layer from --at, or --cells (default: massive; cells with --cells)').choices(INTERVENTION_TARGETS))
    .option('--scan <dir>', 'take the cells (and the emergence layer) from this scan instead of scanning --images')
    .option('--cells <list>', 'explicit cells token:dim,token:dim (e.g. 1:41,14:41)')
    .option('--seed <n>', 'seed of the control cells (noise: seed + 1, shuffle: seed + 2)', rangeFlag('seed'), 0)
    .option('-b, --batch <n>', 'images per forward pass', rangeFlag('batch'), 8)
    .addOption(new Option('--device <device>', 'execution provider').choices(DEVICES).default('auto'))
    .option('--threads <n>', 'ONNX Runtime intra-op threads (0 = all cores)', rangeFlag('threads'), 0)
    .option('--limit <n>', 'use at most n images', rangeFlag('limit'))
    .option('--json', 'print intervene.json to stdout instead of the table')
    .option('--no-report', "do not re-render the scan's report.html with the intervention section")
    .action(async (flags: InterveneFlags) => {
      const model = resolveModel(flags.model);
      checkModelPath('--model', model);
      checkInputFolder('--images', flags.images);
      if (flags.scan !== undefined) checkInputFolder('--scan', flags.scan);
      checkOutputFolder('--out', flags.out);
      const { report, path } = await intervene({
        model,
        images: flags.images,
        out: flags.out,
        at: flags.at,
        modes: flags.mode,
        target: flags.target,
        scan: flags.scan,
        cells: flags.cells ? parseCells(flags.cells) : undefined,
        seed: flags.seed,
        batch: flags.batch,
        device: flags.device,
        threads: flags.threads,
        limit: flags.limit,
        onNotice: (m) => process.stderr.write(`massivit: ${m}\n`),
      });
      process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : describeIntervention(report));
      process.stderr.write(`massivit: wrote ${path}\n`);
      if (flags.report && report.cells.scan) await renderScanReport(report.cells.scan, path);
    });
}

const fmt = (v: number | null, digits = 4) => (v === null ? '-' : v.toFixed(digits));
const row = ([mode, ...rest]: string[]) => mode.padEnd(12) + rest.map((v) => v.padStart(12)).join('');

/** The intervention table printed on stdout. */
function describeIntervention(r: InterveneJson): string {
  const cells = r.cells.list.map((c) => `${c.token}:${c.dim}`).join(', ');
  const lines = [
    `${r.model.name}${r.model.synthetic ? ' (SYNTHETIC)' : ''}: layer ${r.layer} (${r.hook}, ${r.at.source}), ${r.images.used} images, output ${r.model.output}`,
    r.cells.tokens ? `target: ${targetText(r)}` : `cells (${r.cells.source}): ${cells}`,
    `control: ${r.control.list.length} random cells of ordinary magnitude${(r.layers?.length ?? 1) > 1 ? ' per layer' : ''}, seed ${r.control.seed}`,
    '',
    row(['mode', 'cells', 'top1 agree', 'mean KL', 'max KL', 'cos mean', 'cos min', 'kNN acc']),
  ];
  for (const x of r.results) {
    lines.push(row([x.mode, String(x.cells), fmt(x.top1Agreement, 3), fmt(x.meanKL), fmt(x.maxKL), fmt(x.cosine.mean), fmt(x.cosine.min), fmt(x.knnAccuracy, 3)]));
  }
  if (r.knn) lines.push('', `kNN (k=${r.knn.k}, leave-one-out, ${r.classes!.length} classes) before: ${r.knn.baseline.toFixed(3)}`);
  return lines.join('\n') + '\n';
}

/**
 * Re-renders the report of the scan the cells came from with the intervention section. It lasts through a
 * later `massivit report <scanDir>` only when intervene.json sits in the scan folder (--out <scanDir>);
 * otherwise that needs --intervene <file>. A failure here is a warning: intervene.json is already written.
 */
async function renderScanReport(scanDir: string, interveneJson: string): Promise<void> {
  try {
    const r = await writeScanReport(scanDir, { intervene: interveneJson });
    process.stderr.write(`massivit: report with the intervention → ${r.html}\n`);
    if (r.figures?.skipped) process.stderr.write(`massivit: ${describeFigures(r.figures)}\n`);
  } catch (err) {
    process.stderr.write(`massivit: warning: report not re-rendered: ${errorMessage(err).split('\n')[0]} (retry with \`massivit report ${scanDir} --intervene ${interveneJson}\`)\n`);
  }
}
