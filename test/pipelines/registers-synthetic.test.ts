/**
 * The whole pipeline on the synthetic DINOv2 pair (fixtures/README.md): without registers the planted
 * mechanism (two MLP units of one block writing a massive value into one patch) is found and moved into
 * the test-time register; with trained registers (the value planted in a register) there is nothing to move.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { layerHook } from '../../src/contracts/hooks.js';
import { loadModel } from '../../src/model/load.js';
import { registersAdd, registersFind } from '../../src/pipelines/registers.js';
import { openRunner } from '../../src/run/runner.js';
import { forEachBatch, imageSet } from '../../src/pipelines/registers/images.js';
import { fixtureModel, IMAGES, tempDir } from '../helpers/env.js';

interface Planted { fromLayer: number; token: number; dims: number[]; block: number; mlpUnits: number[] }
const planted = (name: string) => (JSON.parse(readFileSync(join(fixtureModel(name), 'config.json'), 'utf8')) as { massivit_planted: Planted }).massivit_planted;
const run = { device: 'cpu' as const, threads: 1 };

/** max |a| of the planted dims at `layer`, per token. */
async function plantedByToken(model: string, layer: number, dims: number[]): Promise<Float32Array> {
  const spec = loadModel(model);
  const hook = layerHook(layer);
  const runner = await openRunner(spec, { expose: [hook] }, run);
  const T = spec.tokens.sequenceLength;
  const byToken = new Float32Array(T);
  try {
    await forEachBatch(await imageSet(IMAGES, 4), spec.preprocess, 4, false, async (pixels) => {
      const x = (await runner.run(pixels))[hook];
      const D = Number(x.dims[2]);
      const data = x.data as Float32Array;
      for (let i = 0; i < pixels.length; i++) for (let t = 0; t < T; t++) for (const d of dims) byToken[t] = Math.max(byToken[t], Math.abs(data[(i * T + t) * D + d]));
    });
  } finally {
    await runner.close();
  }
  return byToken;
}

describe('test-time register on the synthetic DINOv2 without registers', () => {
  const name = 'synthetic-dinov2';
  const p = planted(name);

  it('finds exactly the planted MLP units, and the register takes over the planted massive values', async () => {
    const dir = tempDir('ttr-syn');
    const found = await registersFind({ model: fixtureModel(name), images: IMAGES, out: join(dir, 'neurons.json'), limit: 6, ...run });
    // fixtures/README.md numbers blocks from 1 (block L writes hidden_states[L]); the neurons file from 0.
    expect(found.file.neurons.map((n) => [n.block, n.index]).sort()).toEqual(p.mlpUnits.map((u) => [p.block - 1, u]).sort());
    expect(found.file.detection.byPatch.map((b) => b.patch + 1)).toEqual([p.token]);
    const out = join(dir, 'model');
    const added = await registersAdd({ model: fixtureModel(name), neurons: join(dir, 'neurons.json'), out, images: IMAGES, limit: 6, ...run });
    expect(added.provenance.register).toBe(1);
    const before = await plantedByToken(fixtureModel(name), p.fromLayer, p.dims);
    const after = await plantedByToken(out, p.fromLayer, p.dims);
    expect(before[p.token]).toBeGreaterThan(500);
    // After: the register (1) holds it; the planted patch (now at token + 1) is ordinary.
    expect(after[1]).toBeGreaterThan(0.9 * before[p.token]);
    expect(after[p.token + 1]).toBeLessThan(20);
    expect(Math.max(...Array.from(after).filter((_, t) => t !== 1))).toBeLessThan(20);
    expect(loadModel(out).tokens).toMatchObject({ registers: [1], patchStart: 2 });
  });
});

describe('test-time register on the synthetic DINOv2 with registers', () => {
  it('finds nothing to move, and the identity model reproduces the outputs exactly', async () => {
    const name = 'synthetic-dinov2-reg';
    const dir = tempDir('ttr-syn-reg');
    const found = await registersFind({ model: fixtureModel(name), images: IMAGES, out: join(dir, 'neurons.json'), limit: 6, ...run });
    expect(found.file.detection.outliers).toBe(0);
    expect(found.file.neurons).toEqual([]);
    const added = await registersAdd({ model: fixtureModel(name), neurons: join(dir, 'neurons.json'), out: join(dir, 'model'), images: IMAGES, limit: 6, ...run });
    expect(added.provenance.register).toBeNull();
    expect(added.closeness).toMatchObject({ identical: true, cosine: { mean: 1, min: 1 } });
    expect(added.sha256).toBe(loadModel(fixtureModel(name)).sha256);
  });
});
