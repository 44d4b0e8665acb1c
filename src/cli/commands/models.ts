import { Command } from 'commander';
import { loadModel } from '../../model/load.js';
import { formatInspection, inspectModel } from '../../pipelines/inspect.js';
import { localModels, modelsDirs, resolveModel } from '../../model/registry.js';
import { errorMessage } from '../../contracts/errors.js';
import { checkInputFolder, checkModelPath } from '../../pipelines/paths.js';
import { readManifest } from '../../model/hub/install.js';
import { catalogCommand, pullCommand } from './models-pull.js';

export function modelsCommand(): Command {
  const models = new Command('models').description('Inspect and manage local ViT models');
  models
    .command('inspect <model>')
    .description('family, layers, hidden size, token layout and the taps found in the graph')
    .option('--json', 'print JSON')
    .action(async (model: string, flags: { json?: boolean }) => {
      const path = resolveModel(model);
      checkModelPath('<model>', path);
      const spec = loadModel(path);
      const info = await inspectModel(spec);
      const source = readManifest(spec.dir); // set when the folder came from `models pull`
      const from = source ? `  source        ${source.repo}@${source.commit.slice(0, 7)} (${source.revision}, ${source.variant}) from ${source.endpoint}\n` : '';
      process.stdout.write(flags.json ? JSON.stringify(source ? { ...info, source } : info, null, 2) + '\n' : formatInspection(info) + from);
    });
  models
    .command('list')
    .description(`models under ./models and $MASSIVIT_MODELS_DIR`)
    .action(() => {
      // A models dir that is a file is otherwise skipped without a word: "No models" would mislead.
      if (process.env.MASSIVIT_MODELS_DIR) checkInputFolder('MASSIVIT_MODELS_DIR', process.env.MASSIVIT_MODELS_DIR);
      const dirs = modelsDirs();
      const found = localModels(dirs);
      if (found.length === 0) process.stderr.write(`No models in ${dirs.join(', ') || './models (missing)'}\n`);
      for (const path of found) {
        try {
          const spec = loadModel(path);
          const source = readManifest(spec.dir);
          process.stdout.write(`${spec.name.padEnd(32)} ${spec.arch.family.padEnd(22)} ${String(spec.arch.numLayers).padStart(3)} layers  ${spec.precision}  ${path}${source ? `  (${source.repo})` : ''}\n`);
        } catch (err) {
          process.stdout.write(`${path}  unusable: ${errorMessage(err)}\n`);
        }
      }
    });
  models.addCommand(pullCommand());
  models.addCommand(catalogCommand());
  return models;
}
