/**
 * The ablation modes and targets (issue 15, part 2). On the synthetic DINOv2-reg demo (fixtures/README.md):
 * register 3 alone writes the marker dim, from its register_tokens row, and from block 3 on carries a
 * massive value that is the same in every image (±0.2%). So at layer 0 the registers are parameters (no
 * spread over images), mean and shuffle write back registers that carry the same massive value, and only
 * zero removes it: zero must move the output several times more than mean or shuffle.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { derangement, seededNormal } from '../../src/analyze/effects.js';
import { intervene, type InterveneJson, type InterveneResult } from '../../src/pipelines/intervene.js';
import { CLI, fixtureModel, IMAGES, ROOT, tempDir } from '../helpers/env.js';

const DEMO = fixtureModel('synthetic-dinov2-reg');
const TINY = fixtureModel('tiny-dinov2-reg-op17');
const config = JSON.parse(readFileSync(join(DEMO, 'config.json'), 'utf8')) as { num_hidden_layers: number; hidden_size: number; num_register_tokens: number };
const by = (j: InterveneJson, mode: InterveneResult['mode']) => j.results.find((r) => r.mode === mode)!;
/** How far the output moved: 1 − mean cosine. */
const moved = (r: InterveneResult) => 1 - r.cosine.mean;

describe('--target registers on the synthetic DINOv2-reg', () => {
  let report: InterveneJson;
  beforeAll(async () => {
    ({ report } = await intervene({ model: DEMO, images: IMAGES, out: tempDir('modes-registers'), target: 'registers', device: 'cpu', threads: 1 }));
  }, 120_000);

  it('edits every dim of the four registers at every block input, with the control beside the four modes', () => {
    const R = config.num_register_tokens;
    expect(report.target).toBe('registers');
    expect(report.layers).toEqual(Array.from({ length: config.num_hidden_layers }, (_, i) => i));
    expect(report.at.source).toBe('first layer');
    expect(report.cells.tokens).toEqual([1, 2, 3, 4]);
    expect(report.results.map((r) => r.mode)).toEqual(['zero', 'mean', 'noise', 'shuffle', 'control-zero']);
    for (const r of report.results) expect(r.cells).toBe(R * config.hidden_size * config.num_hidden_layers);
    expect(report.rules?.noise).toMatch(/normal/);
    expect(report.rules?.shuffle).toMatch(/derangement/);
  });

  it('at layer 0 the registers are parameters: every cell has the same value in every image', () => {
    expect(report.cells.list).toHaveLength(4 * config.hidden_size);
    for (const c of report.cells.list) expect(c.sd!).toBeLessThan(1e-5 + 1e-5 * c.meanAbs);
  });

  it('zero removes the planted constant and moves the output several times more than mean or shuffle', () => {
    const [zero, mean, shuffle] = [by(report, 'zero'), by(report, 'mean'), by(report, 'shuffle')];
    expect(moved(zero)).toBeGreaterThan(3 * moved(mean));
    expect(moved(zero)).toBeGreaterThan(3 * moved(shuffle));
    expect(mean.cosine.min).toBeGreaterThan(0.99);
    expect(shuffle.cosine.min).toBeGreaterThan(0.99);
  });
});

describe('noise and shuffle are reproducible from the seed', () => {
  const run = async (seed: number) =>
    (await intervene({ model: TINY, images: IMAGES, out: tempDir('modes-seed'), target: 'registers', modes: ['noise', 'shuffle'], seed, limit: 6, device: 'cpu', threads: 1 })).report;

  it('the same seed gives the same results, another seed other draws', async () => {
    const [a, b, c] = [await run(7), await run(7), await run(8)];
    expect(b.results).toEqual(a.results);
    expect(by(a, 'noise').seed).toBe(8);
    expect(by(a, 'shuffle').seed).toBe(9);
    expect(by(c, 'noise').cosine.mean).not.toBe(by(a, 'noise').cosine.mean);
  }, 120_000);

  it('shuffle is skipped, not failed, with one image', async () => {
    const notices: string[] = [];
    const { report } = await intervene({ model: TINY, images: IMAGES, out: tempDir('modes-one'), target: 'cls', modes: ['zero', 'shuffle'], limit: 1, device: 'cpu', threads: 1, onNotice: (m) => notices.push(m) });
    expect(report.results.map((r) => r.mode)).toEqual(['zero', 'control-zero']);
    expect(notices).toContain('shuffle needs at least 2 images: skipped');
  });

  it('refuses --target registers on a model without registers, and --target cells without --cells', async () => {
    const opts = { images: IMAGES, out: tempDir('modes-bad'), device: 'cpu' as const };
    await expect(intervene({ ...opts, model: fixtureModel('tiny-dinov2-op17'), target: 'registers' })).rejects.toThrow(/has no register tokens/);
    await expect(intervene({ ...opts, model: TINY, target: 'cells' })).rejects.toThrow(/--cells/);
  });
});

describe('seeded draws', () => {
  it('a derangement is a permutation with no fixed point, the same for the same seed', () => {
    for (const n of [2, 3, 17, 100]) {
      const p = derangement(n, 5);
      expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(p.every((v, i) => v !== i)).toBe(true);
      expect(derangement(n, 5)).toEqual(p);
    }
    expect(derangement(17, 6)).not.toEqual(derangement(17, 5));
    expect(() => derangement(1, 0)).toThrow(/at least 2/);
  });

  it('the normal draws have mean 0 and sd 1', () => {
    const draw = seededNormal(3);
    const xs = Array.from({ length: 20000 }, draw);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
  });
});

describe('massivit intervene --target / --mode (CLI)', () => {
  it('--target registers --mode both edits the registers at every block input with zero and mean', () => {
    const out = tempDir('modes-cli');
    const r = spawnSync('node', [CLI, 'intervene', '-m', TINY, '-i', IMAGES, '-o', out, '--target', 'registers', '--mode', 'both', '--device', 'cpu', '--limit', '3'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('target: every dim of tokens 1, 2, 3, 4 (registers) at layers 0–3');
    const json = JSON.parse(readFileSync(join(out, 'intervene.json'), 'utf8')) as InterveneJson;
    expect(json.results.map((x) => x.mode)).toEqual(['zero', 'mean', 'control-zero']);
    expect(json.layers).toEqual([0, 1, 2, 3]);
  });

  it('exits 2 on an unknown mode or target', () => {
    for (const args of [['--mode', 'zero,blur'], ['--target', 'patches']]) {
      const r = spawnSync('node', [CLI, 'intervene', '-m', TINY, '-i', IMAGES, '-o', tempDir('modes-cli-bad'), ...args], { cwd: ROOT, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(args[0]);
    }
  });
});
