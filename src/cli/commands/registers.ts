import { Command, Option } from 'commander';
import { resolveModel } from '../../model/registry.js';
import { checkModelPath } from '../../pipelines/paths.js';
import { DEVICES, type Device } from '../../run/session.js';
import { registersAdd, registersFind, CLOSENESS_FILE } from '../../pipelines/registers.js';
import type { RegisterNeuron } from '../../outputs/register-neurons.js';
import { rangeFlag } from '../options.js';

interface RunFlags {
  model: string;
  batch: number;
  device: Device;
  threads: number;
  limit?: number;
}

interface FindFlags extends RunFlags {
  images: string;
  out: string;
  layer?: number;
  threshold?: number;
  normRatio?: number;
  top?: number;
  neuronRatio?: number;
  report: boolean;
}

function common(cmd: Command): Command {
  return cmd
    .requiredOption('-m, --model <path>', 'model folder (HF layout) or .onnx file')
    .option('-b, --batch <n>', 'images per forward pass', rangeFlag('batch'), 8)
    .addOption(new Option('--device <device>', 'execution provider').choices(DEVICES).default('auto'))
    .option('--threads <n>', 'ONNX Runtime intra-op threads (0 = all cores)', rangeFlag('threads'), 0)
    .option('--limit <n>', 'use at most n images', rangeFlag('limit'));
}

function findFlags(cmd: Command): Command {
  return cmd
    .option('--layer <L>', 'detection layer (block output 1 … N); default: the largest max/median patch-norm ratio', rangeFlag('detectionLayer'))
    .option('--threshold <norm>', 'outlier: patch-token L2 norm above this (default: mean + 3 sd at the detection layer)', rangeFlag('outlierNorm'))
    .option('--norm-ratio <x>', 'outlier: norm also at least x × the median patch norm (default 10)', rangeFlag('normRatio'))
    .option('--top <k>', 'take a fixed number of neurons (default: the smallest set holding ≥ 95% of the sparse neurons’ excess)', rangeFlag('topNeurons'))
    .option('--neuron-ratio <x>', 'sparsity filter: mean |a| at the outliers at least x × elsewhere (default 100 without --top)', rangeFlag('neuronRatio'));
}

const findOptions = (f: FindFlags) => ({ layer: f.layer, threshold: f.threshold, minRatio: f.normRatio, top: f.top, minNeuronRatio: f.neuronRatio });
const runOptions = (f: RunFlags) => ({ batch: f.batch, device: f.device, threads: f.threads, limit: f.limit });

function describeNeurons(neurons: RegisterNeuron[]): string {
  if (neurons.length === 0) return '  (none: no patch tokens stand out by norm, nothing to move)\n';
  return neurons.map((n) => `  block ${n.block} neuron ${n.index} (sign ${n.sign > 0 ? '+' : '−'}): mean |a| ${n.atOutliers.toFixed(3)} at outliers vs ${n.elsewhere.toFixed(4)} elsewhere, ratio ${n.ratio === null ? '∞' : n.ratio.toFixed(0)}\n`).join('');
}

function findCommand(): Command {
  return findFlags(common(new Command('find')))
    .description('rank the MLP neurons that write the high-norm outlier patch tokens (test-time register neurons)')
    .requiredOption('-i, --images <dir>', 'image folder')
    .option('-o, --out <file>', 'neurons JSON file to write (an HTML report is written next to it)', 'register-neurons.json')
    .option('--no-report', 'write the JSON only')
    .action(async (flags: FindFlags) => {
      const model = resolveModel(flags.model);
      checkModelPath('--model', model);
      const r = await registersFind({ model, images: flags.images, out: flags.out, report: flags.report, ...runOptions(flags), ...findOptions(flags) });
      const d = r.file.detection;
      process.stdout.write(
        `detection layer ${d.layer} (${d.layerSource}), threshold ${d.threshold.toFixed(1)} (${d.thresholdSource}, and ≥ ${d.minRatio}× median): ` +
          `${d.outliers} outlier tokens in ${r.file.images.used} images\n` +
          `${r.file.neurons.length} neurons (${r.file.selection.rule}):\n${describeNeurons(r.file.neurons)}`,
      );
      process.stderr.write(`massivit: wrote ${r.path}${r.html ? ` and ${r.html}` : ''}\n`);
    });
}

interface AddFlags extends FindFlags {
  neurons: string;
}

function addCommand(): Command {
  return findFlags(common(new Command('add')))
    .description('write a copy of the model with one test-time register holding the register neurons’ activations')
    .requiredOption('--neurons <file|auto>', "a file from `registers find`, or 'auto' to find them on --images first")
    .requiredOption('-o, --out <dir>', 'output model folder (model.onnx, config.json, preprocessor_config.json)')
    .option('-i, --images <dir>', 'images to measure how close the new model stays to the original')
    .action(async (flags: AddFlags) => {
      const model = resolveModel(flags.model);
      checkModelPath('--model', model);
      const r = await registersAdd({ model, neurons: flags.neurons, out: flags.out, images: flags.images, find: findOptions(flags), ...runOptions(flags) });
      const lines = [`${r.provenance.neurons.length} register neurons; register token ${r.provenance.register ?? '(none added: no neurons)'}`];
      const c = r.closeness;
      if (c) {
        const kl = c.meanKL === null ? '' : `, top-1 agreement ${c.top1Agreement!.toFixed(3)}, KL mean ${c.meanKL.toFixed(4)} max ${c.maxKL!.toFixed(4)}`;
        lines.push(`vs the original on ${c.images} images (${c.output})${kl}, cosine mean ${c.cosine.mean.toFixed(4)} min ${c.cosine.min.toFixed(4)}${c.identical ? ' (outputs identical)' : ''}`);
      }
      process.stdout.write(lines.join('\n') + '\n');
      process.stderr.write(`massivit: wrote ${r.out}${c ? ` (closeness in ${CLOSENESS_FILE})` : ''}\n`);
    });
}

export function registersCommand(): Command {
  return new Command('registers').description('test-time registers (Jiang et al. 2025): find register neurons, add a register without training').addCommand(findCommand()).addCommand(addCommand());
}
