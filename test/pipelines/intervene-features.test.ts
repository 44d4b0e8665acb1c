/**
 * The feature-model path on the synthetic tiny-dinov2-reg-op17 (random weights; a massive activation planted
 * in register 3, dims 3 and 20, from layer 2): the intervention finds the planted cells, measures the pooled
 * output, and runs the leave-one-out kNN check on a folder with two class sub-folders. Also the CLI.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { intervene, parseCells, type InterveneJson } from '../../src/pipelines/intervene.js';
import { CLI, fixtureModel, IMAGES, ROOT, tempDir } from '../helpers/env.js';

const MODEL = fixtureModel('tiny-dinov2-reg-op17');
const planted = JSON.parse(readFileSync(join(MODEL, 'config.json'), 'utf8')).massivit_planted as { fromLayer: number; token: number; dims: number[] };

/** Two classes of three photos each. */
function classFolder(): string {
  const root = tempDir('intervene-classes');
  const classes = { objects: ['astronaut.png', 'camera.png', 'coffee.png'], textures: ['brick.png', 'grass.png', 'coins.png'] };
  for (const [name, files] of Object.entries(classes)) {
    mkdirSync(join(root, name));
    for (const f of files) copyFileSync(join(IMAGES, f), join(root, name, f));
  }
  return root;
}

describe('intervene on a feature model with class sub-folders', () => {
  let report: InterveneJson;
  beforeAll(async () => {
    ({ report } = await intervene({ model: MODEL, images: classFolder(), out: tempDir('intervene-features'), device: 'cpu', threads: 1 }));
  });

  it('finds the planted cells at the planted layer', () => {
    expect(report.layer).toBe(planted.fromLayer);
    expect(report.cells.list.map((c) => [c.token, c.dim])).toEqual(planted.dims.map((d) => [planted.token, d]));
    expect(report.cells.list.every((c) => c.role === 'register')).toBe(true);
    expect(report.model).toMatchObject({ kind: 'features', output: 'pooler_output', synthetic: true });
  });

  it('reports cosine and kNN accuracy, no logit metrics, for zero, mean and the control', () => {
    expect(report.results.map((r) => r.mode)).toEqual(['zero', 'mean', 'control-zero']);
    expect(report.classes).toEqual(['objects', 'textures']);
    expect(report.knn!.k).toBe(5);
    for (const r of report.results) {
      expect(r.top1Agreement).toBeNull();
      expect(r.meanKL).toBeNull();
      expect(r.cosine.min).toBeLessThanOrEqual(r.cosine.mean);
      expect(r.cosine.mean).toBeLessThanOrEqual(1 + 1e-6);
      expect(r.knnAccuracy).toBeGreaterThanOrEqual(0);
      expect(r.knnAccuracy).toBeLessThanOrEqual(1);
    }
    // mean writes back (nearly) what was there: the pooled output barely moves.
    expect(report.results[1].cosine.min).toBeGreaterThan(0.999);
  });
});

describe('massivit intervene (CLI)', () => {
  it('takes explicit cells and a layer, prints the table and writes intervene.json', () => {
    const out = tempDir('intervene-cli');
    const r = spawnSync('node', [CLI, 'intervene', '-m', MODEL, '-i', IMAGES, '-o', out, '--at', '3', '--cells', '3:3,3:20', '--mode', 'zero', '--device', 'cpu', '--limit', '4'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/layer 3 \(blocks\.2\.hook_resid_post, explicit\)/);
    expect(r.stdout).toMatch(/^zero\s+2\s/m);
    expect(r.stdout).toMatch(/^control-zero\s+2\s/m);
    const json = JSON.parse(readFileSync(join(out, 'intervene.json'), 'utf8')) as InterveneJson;
    expect(json.cells.source).toBe('explicit');
    expect(json.images.used).toBe(4);
    expect(json.results.map((x) => x.mode)).toEqual(['zero', 'control-zero']);
  });

  it('exits 2 with a named error for bad cells', () => {
    const r = spawnSync('node', [CLI, 'intervene', '-m', MODEL, '-i', IMAGES, '-o', tempDir('intervene-bad'), '--at', '2', '--cells', '3:999'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--cells/);
    expect(() => parseCells('3-20')).toThrow(/token:dim/);
  });
});
