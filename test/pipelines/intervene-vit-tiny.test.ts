/**
 * The paper's intervention on the real ViT-Ti/16 (Sun et al. 2024, Table 3 for LLMs and ViTs): setting the
 * massive activations to zero at the layer where they appear breaks the model; setting them to their mean
 * barely changes it; zeroing as many random ordinary cells (the control) barely changes it either.
 * Asserted as measured orderings with a wide margin, not as fixed numbers (the README gives the numbers).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { intervene, type InterveneJson, type InterveneResult } from '../../src/pipelines/intervene.js';
import { IMAGES, realVitTiny, tempDir } from '../helpers/env.js';

const model = realVitTiny();
const CORNERS = [1, 14, 183, 196];

describe.skipIf(!model)('intervene on the real ViT-Ti/16 at the emergence layer', () => {
  let report: InterveneJson;
  let out: string;
  const result = (mode: InterveneResult['mode']) => report.results.find((r) => r.mode === mode)!;

  beforeAll(async () => {
    out = tempDir('intervene-vit');
    ({ report } = await intervene({ model: model!, images: IMAGES, out, at: 'auto', device: 'cpu', threads: 2 }));
  });

  it('scans first, then edits dim 41 of the four corner tokens at layer 8 (the emergence layer)', () => {
    expect(existsSync(join(out, 'scan', 'scan.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'intervene.json'), 'utf8'))).toEqual(report);
    expect(report.layer).toBe(8);
    expect(report.at.source).toBe('emergence');
    expect(report.cells.source).toBe('scan: massive');
    expect(report.cells.list.map((c) => [c.token, c.dim])).toEqual(CORNERS.map((t) => [t, 41]));
    for (const c of report.cells.list) expect(c.mean).toBeLessThan(-300); // large and negative, as the scan shows
    expect(report.model.kind).toBe('classifier');
    expect(report.images.used).toBe(17);
  });

  it('the control zeroes as many cells of ordinary magnitude, none of them a target', () => {
    expect(report.control.list).toHaveLength(4);
    const targets = new Set(report.cells.list.map((c) => `${c.token}:${c.dim}`));
    for (const c of report.control.list) {
      expect(targets.has(`${c.token}:${c.dim}`)).toBe(false);
      expect(c.meanAbs).toBeLessThan(10);
    }
  });

  it('zero breaks the model far more than mean or the random control', () => {
    const [zero, mean, control] = [result('zero'), result('mean'), result('control-zero')];
    expect(zero.meanKL!).toBeGreaterThan(10 * mean.meanKL!);
    expect(zero.meanKL!).toBeGreaterThan(10 * control.meanKL!);
    expect(zero.top1Agreement!).toBeLessThan(mean.top1Agreement!);
    expect(zero.top1Agreement!).toBeLessThan(control.top1Agreement!);
    expect(zero.cosine.mean).toBeLessThan(mean.cosine.mean);
  });

  it('mean keeps the top-1 class of almost every image', () => {
    expect(result('mean').top1Agreement!).toBeGreaterThanOrEqual(16 / 17);
    expect(result('mean').cosine.min).toBeGreaterThan(0.99);
  });

  it('without class sub-folders there is no kNN check', () => {
    expect(report.classes).toBeNull();
    expect(report.knn).toBeNull();
    for (const r of report.results) expect(r.knnAccuracy).toBeNull();
  });
});
