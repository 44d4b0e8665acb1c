/**
 * views/feature-token.json: the feature × token view the scan captured with the model at hand, so that
 * `massivit report` re-creates the HTML from the file alone. One reader (validating) and one writer.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ensureOutputDir, writeFileAtomic } from '../contracts/atomic.js';
import { MassivitError } from '../contracts/errors.js';
import { VIEW_FILE } from '../contracts/files.js';
import { VIEW_VERSION, type FeatureTokenView } from '../analyze/feature-token.js';
import { checkView } from './file-shapes.js';
import { parseJsonFile } from './validate.js';

export function writeView(outDir: string, view: FeatureTokenView): string {
  const path = join(resolve(outDir), VIEW_FILE);
  ensureOutputDir(dirname(path));
  writeFileAtomic(path, JSON.stringify(view) + '\n');
  return path;
}

export function readView(outDir: string): FeatureTokenView | undefined {
  const path = join(resolve(outDir), VIEW_FILE);
  if (!existsSync(path)) return undefined;
  const json = parseJsonFile(path, (why) => new MassivitError('BAD_OUTPUT', `Cannot read ${path}: ${why}`));
  // Another version is skipped (the report says the view is missing); this version is checked field by field.
  return (json as Partial<FeatureTokenView> | null)?.version === VIEW_VERSION ? checkView(path, json) : undefined;
}
