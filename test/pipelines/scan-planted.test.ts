/**
 * Each fixture has a massive activation planted by hand (fixtures/README.md; recorded in its config.json
 * as massivit_planted). The scan must find it by itself, in the right layer, token role, token and dims,
 * and nothing else may pass the criterion.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scan } from '../../src/pipelines/scan.js';
import { fixtureModel, IMAGES, tempDir } from '../helpers/env.js';

interface Planted {
  fromLayer: number;
  token: number;
  role: 'cls' | 'register' | 'patch';
  dims: number[];
}

const CASES = [
  ['tiny-vit-op14', 'patch'],
  ['tiny-vit-op17', 'patch'],
  ['tiny-dinov2-op14', 'patch'],
  ['tiny-dinov2-op17', 'patch'],
  ['tiny-dinov2-reg-op14', 'register'],
  ['tiny-dinov2-reg-op17', 'register'],
  ['tiny-clip-vision-op14', 'cls'],
  ['tiny-clip-op17', 'cls'],
  ['synthetic-dinov2', 'patch'],
  ['synthetic-dinov2-reg', 'register'],
] as const;

describe.each(CASES)('%s', (name, role) => {
  it(`finds the planted activation in the ${role} role`, async () => {
    const dir = fixtureModel(name);
    const planted = (JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { massivit_planted: Planted }).massivit_planted;
    expect(planted.role).toBe(role);
    const { summary } = await scan({ model: dir, images: IMAGES, out: tempDir(name), batch: 8, device: 'cpu', threads: 1 });
    expect(summary.images.scanned).toBe(17);
    expect(summary.emergence).toEqual({ firstLayer: planted.fromLayer, lastLayer: summary.model.numLayers });
    const layers = new Set(summary.massive.map((g) => g.layer));
    expect(layers.size).toBe(summary.model.numLayers - planted.fromLayer + 1);
    for (const g of summary.massive) {
      expect(g.role).toBe(role);
      expect(g.token).toBe(planted.token);
      expect(planted.dims).toContain(g.dim);
      expect(g.images).toBe(17);
      expect(g.tokens).toEqual([[planted.token, 17]]);
    }
    expect(summary.massive.filter((g) => g.layer === planted.fromLayer).map((g) => g.dim).sort((a, b) => a - b)).toEqual([...planted.dims].sort((a, b) => a - b));
    if (role === 'patch') expect(summary.massive[0].position).toBeDefined();
    else expect(summary.massive[0].position).toBeUndefined();
    for (const l of summary.layers) expect(l.imagesWithMassive).toBe(l.layer >= planted.fromLayer ? 17 : 0);
    expect(summary.model.synthetic).toBeDefined();
  });
});
