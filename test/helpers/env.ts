/** Shared test helpers: where the real model and fixtures are, and temp folders. */
import { existsSync, mkdtempSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const FIXTURES = join(ROOT, 'test', 'fixtures');
const FIXTURE_MODELS = join(FIXTURES, 'models');
export const IMAGES = join(ROOT, 'images');
export const CLI = join(ROOT, 'bin', 'massivit.js');

/** The real pretrained ViT-Ti from $MASSIVIT_MODELS_DIR (CI: ../shared/models), or undefined. */
export function realVitTiny(): string | undefined {
  const dir = process.env.MASSIVIT_MODELS_DIR;
  const path = dir ? resolve(ROOT, dir, 'vit-tiny-augreg-in1k') : undefined;
  if (path && existsSync(join(path, 'model.onnx'))) return path;
  const why = dir ? `${path} does not exist` : 'MASSIVIT_MODELS_DIR is not set';
  console.warn(`SKIPPING tests that need the real ViT-Ti: ${why}. Set MASSIVIT_MODELS_DIR=../shared/models to run them.`);
  return undefined;
}

/** The demo's synthetic pair ships in the npm package (fixtures/models); the test-only models stay in test/fixtures. */
const DEMO_MODELS = join(ROOT, 'fixtures', 'models');

export function fixtureModel(name: string): string {
  return join(name.startsWith('synthetic-') ? DEMO_MODELS : FIXTURE_MODELS, name);
}

/** A fresh temp folder under test/.tmp (ignored by git). */
export function tempDir(prefix: string): string {
  const base = join(ROOT, 'test', '.tmp');
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, `${prefix}-`));
}
