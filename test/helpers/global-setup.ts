/**
 * Runs once per `vitest run`, before any test file: a fresh folder for the scans the test files share
 * (test/helpers/shared-scan.ts). Fresh per run, so a shared scan never outlives the code that made it.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ROOT } from './env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    sharedScans: string;
  }
}

export default function setup(project: TestProject): () => void {
  const base = join(ROOT, 'test', '.tmp');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'shared-'));
  project.provide('sharedScans', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
