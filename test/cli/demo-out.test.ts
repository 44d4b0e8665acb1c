/**
 * `massivit demo` as an installed package runs it: the output goes to ./reports/demo of the current
 * folder (or --out, relative to it), never into the package; the synthetic pair is found in the package.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IMAGES, tempDir } from '../helpers/env.js';
import { runMassivit } from '../helpers/cli.js';

function demoIn(cwd: string, ...args: string[]) {
  // No real model anywhere: the demo must fall back to the synthetic pair shipped with the package.
  return runMassivit(['demo', ...args], { cwd });
}

/** Two photos, so each run scans little. */
function photos(): string {
  const dir = tempDir('demo-photos');
  for (const name of ['chelsea.png', 'rocket.jpg']) copyFileSync(join(IMAGES, name), join(dir, name));
  return dir;
}

function expectDemoIn(outDir: string) {
  for (const model of ['synthetic-dinov2', 'synthetic-dinov2-reg']) {
    const summary = JSON.parse(readFileSync(join(outDir, model, 'scan.json'), 'utf8'));
    expect(summary.model.synthetic).toMatchObject({ note: expect.stringContaining('SYNTHETIC') });
    expect(summary.images.scanned).toBe(2);
    expect(existsSync(join(outDir, model, 'report.html'))).toBe(true);
  }
  expect(existsSync(join(outDir, 'compare', 'compare.html'))).toBe(true);
}

describe('massivit demo output folder', () => {
  const images = photos();

  it('writes to ./reports/demo of the current folder by default', () => {
    const cwd = tempDir('demo-cwd');
    const r = demoIn(cwd, '--images', images);
    expect(r.code, r.stderr).toBe(0);
    expectDemoIn(join(cwd, 'reports', 'demo'));
    expect(r.stderr).toContain(join(cwd, 'reports', 'demo', 'synthetic-dinov2-reg'));
  });

  it('writes where --out says, relative to the current folder', () => {
    const cwd = tempDir('demo-cwd');
    mkdirSync(join(cwd, 'elsewhere'));
    const r = demoIn(cwd, '--images', images, '--out', 'elsewhere/demo');
    expect(r.code, r.stderr).toBe(0);
    expectDemoIn(join(cwd, 'elsewhere', 'demo'));
    expect(existsSync(join(cwd, 'reports'))).toBe(false);
  });
});
