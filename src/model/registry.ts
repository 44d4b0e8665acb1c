/** Where local models live: ./models and the folder MASSIVIT_MODELS_DIR names (CI points it at ../shared/models). */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export function modelsDirs(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string[] {
  const dirs = [resolve(cwd, 'models')];
  if (env.MASSIVIT_MODELS_DIR) dirs.push(resolve(cwd, env.MASSIVIT_MODELS_DIR));
  return [...new Set(dirs)].filter((d) => existsSync(d) && statSync(d).isDirectory());
}

/** A folder holding a config.json file; a dangling link or an unreadable entry is simply not a model. */
function isModelFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory() && statSync(join(path, 'config.json')).isFile();
  } catch {
    return false;
  }
}

/** Model folders (holding config.json) directly under the models dirs, sorted by name. */
export function localModels(dirs: string[] = modelsDirs()): string[] {
  const found: string[] = [];
  for (const dir of dirs) {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (isModelFolder(path)) found.push(path);
    }
  }
  return found;
}

/** A model argument: an existing path, or a name under one of the models dirs. */
export function resolveModel(nameOrPath: string, dirs: string[] = modelsDirs()): string {
  if (existsSync(nameOrPath)) return nameOrPath;
  const hit = dirs.map((d) => join(d, nameOrPath)).find((p) => existsSync(p));
  return hit ?? nameOrPath;
}
