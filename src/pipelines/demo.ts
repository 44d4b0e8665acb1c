/**
 * The demo: scan images/ with every local model (./models and $MASSIVIT_MODELS_DIR). With no real model,
 * scan the committed synthetic DINOv2 pair (with and without registers, planted mechanism documented in
 * fixtures/README.md), labelled synthetic in every output.
 */
import { existsSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { localModels } from '../model/registry.js';
import { scan, type ScanResult } from './scan.js';
import { describeFigures, reportAfterScan, writeComparison } from './report.js';

// The package root (dist/.. or src/..): the synthetic models and the bundled photos ship inside the
// npm package, so they are found there, while the output goes to the user's current folder.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SYNTHETIC_MODELS = ['synthetic-dinov2', 'synthetic-dinov2-reg'].map((n) => join(ROOT, 'fixtures', 'models', n));
const BUNDLED_IMAGES = join(ROOT, 'images');

export interface DemoOptions {
  images?: string;
  out?: string;
  log?: (line: string) => void;
}

export interface DemoResult {
  synthetic: boolean;
  scans: ScanResult[];
  outDir: string;
}

export async function demo(opts: DemoOptions = {}): Promise<DemoResult> {
  const log = opts.log ?? (() => {});
  const images = resolve(opts.images ?? BUNDLED_IMAGES);
  const outDir = resolve(opts.out ?? join('reports', 'demo'));
  const real = localModels();
  const synthetic = real.length === 0;
  const models = synthetic ? SYNTHETIC_MODELS.filter((m) => existsSync(m)) : real;
  if (synthetic) log('No real model found in ./models or $MASSIVIT_MODELS_DIR: using the SYNTHETIC demo pair (planted massive activations).');
  const scans: ScanResult[] = [];
  for (const model of models) {
    const out = join(outDir, basename(model));
    rmSync(out, { recursive: true, force: true }); // demo output is regenerated each run
    log(`Scanning ${images} with ${basename(model)} …`);
    const scanned = await scan({ model, images, out, batch: 8, attention: true, onNotice: log });
    await reportAfterScan({ outDir: scanned.outDir, onNotice: log });
    scans.push(scanned);
  }
  if (scans.length >= 2) {
    const compared = await writeComparison(scans.map((s) => s.outDir), { out: join(outDir, 'compare') });
    log(`Comparison → ${compared.html}${compared.figures?.skipped ? ` (${describeFigures(compared.figures)})` : ''}`);
  }
  return { synthetic, scans, outDir };
}
