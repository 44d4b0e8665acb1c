import { Command } from 'commander';
import { loadModel } from '../../model/load.js';
import { formatInspection, inspectModel } from '../../model/inspect.js';
import { localModels, modelsDirs, resolveModel } from '../../model/registry.js';
import { errorMessage } from '../../errors.js';

export function modelsCommand(): Command {
  const models = new Command('models').description('Inspect and manage local ViT models');
  models
    .command('inspect <model>')
    .description('family, layers, hidden size, token layout and the taps found in the graph')
    .option('--json', 'print JSON')
    .action(async (model: string, flags: { json?: boolean }) => {
      const info = await inspectModel(loadModel(resolveModel(model)));
      process.stdout.write(flags.json ? JSON.stringify(info, null, 2) + '\n' : formatInspection(info));
    });
  models
    .command('list')
    .description(`models under ./models and $MASSIVIT_MODELS_DIR`)
    .action(() => {
      const dirs = modelsDirs();
      const found = localModels(dirs);
      if (found.length === 0) process.stderr.write(`No models in ${dirs.join(', ') || './models (missing)'}\n`);
      for (const path of found) {
        try {
          const spec = loadModel(path);
          process.stdout.write(`${spec.name.padEnd(32)} ${spec.arch.family.padEnd(22)} ${String(spec.arch.numLayers).padStart(3)} layers  ${spec.precision}  ${path}\n`);
        } catch (err) {
          process.stdout.write(`${path}  unusable: ${errorMessage(err)}\n`);
        }
      }
    });
  return models;
}
