/**
 * The real pretrained ViT-Ti/16 (../shared/models via MASSIVIT_MODELS_DIR) on the bundled photos.
 * What is pinned here was first found by the scan itself, then confirmed independently: the same
 * layers' raw hidden states are exposed whole (no in-graph statistics), and median / top-k are
 * recomputed in plain JS by sorting, per image and layer, and compared with what the scan stored.
 */
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CRITERIA } from '../../src/contracts/criteria.js';
import { layerHook } from '../../src/contracts/hooks.js';
import { preprocessImage } from '../../src/images/preprocess.js';
import { loadModel } from '../../src/model/load.js';
import { openRunner } from '../../src/run/runner.js';
import type { ScanJson } from '../../src/outputs/scan-json.js';
import { IMAGES, realVitTiny } from '../helpers/env.js';
import { SHARED_SCAN_TIMEOUT, sharedVitTinyScan } from '../helpers/shared-scan.js';

const modelPath = realVitTiny();
const CORNERS = [1, 14, 183, 196]; // patch (0,0), (0,13), (13,0), (13,13) after the CLS token

describe.skipIf(!modelPath)('real ViT-Ti/16 on the sample photos', () => {
  let summary: ScanJson;
  let out: string;

  beforeAll(async () => {
    ({ outDir: out, summary } = await sharedVitTinyScan(modelPath!));
  }, SHARED_SCAN_TIMEOUT);

  it('reads the model and its layout', () => {
    expect(summary.model).toMatchObject({ family: 'vit', numLayers: 12, hiddenSize: 192, sequenceLength: 197, tokens: { cls: 0, registers: [], patchStart: 1, patchGrid: [14, 14] } });
    expect(summary.images.failed).toBe(0);
    expect(summary.images.scanned).toBe(17);
    expect(summary.layers).toHaveLength(13);
  });

  it('finds the activations in dim 41 of the four corner patches, from layer 8 on', () => {
    const found = [...summary.massive, ...summary.nearMisses];
    expect(Math.min(...found.map((g) => g.layer))).toBe(8);
    for (const g of found) {
      expect(g.dim).toBe(41);
      expect(g.role).toBe('patch');
      expect(CORNERS).toContain(g.token);
      expect(g.meanValue).toBeLessThan(-100); // negative and large
    }
    const last = summary.nearMisses.find((g) => g.layer === 12)!;
    expect(last.tokens.map(([t]) => t).sort((a, b) => a - b)).toEqual(CORNERS);
    expect(last.images).toBe(17); // every photo: input-agnostic, as the paper says
    expect(last.position).toBeDefined();
    expect([0, 13]).toContain(last.position![0]);
    expect([0, 13]).toContain(last.position![1]);
    expect(summary.nearMissEmergence).toEqual({ firstLayer: 8, lastLayer: 12 });
  });

  it('keeps near-misses: ratios between ~500x and 1000x in late layers, under the default 1000x', () => {
    const late = summary.layers.filter((l) => l.layer >= 9);
    for (const l of late) {
      const ratio = l.top1 / l.median;
      expect(ratio).toBeGreaterThan(400);
      expect(ratio).toBeLessThan(DEFAULT_CRITERIA.ratioThreshold);
      expect(l.imagesWithMassive).toBe(0);
      expect(l.imagesWithNearMiss).toBe(17);
    }
    // Layer 8 is where the spike is largest relative to the median: some photos pass the strict criterion.
    const l8 = summary.layers[8];
    expect(l8.imagesWithMassive).toBeGreaterThan(0);
    expect(summary.emergence.firstLayer).toBe(8);
  });

  it('agrees with an independent computation from the raw hidden states', async () => {
    const spec = loadModel(modelPath!);
    const layers = Array.from({ length: 13 }, (_, i) => i);
    const raw = await openRunner(spec, { expose: layers.map(layerHook) }, { device: 'cpu', threads: 2 });
    const db = new Database(join(out, 'scan.sqlite'), { readonly: true });
    const row = db.prepare('SELECT l.median, l.top1, l.top2, l.top3 FROM files f JOIN layers l ON l.hash = f.hash WHERE f.path = ? AND l.layer = ?');
    for (const name of ['chelsea.png', 'coffee.png', 'grass.png']) {
      const img = await preprocessImage(readFileSync(join(IMAGES, name)), spec.preprocess);
      const outputs = await raw.run([img.pixels]);
      for (const layer of layers) {
        const abs = Float32Array.from(outputs[layerHook(layer)].data as Float32Array, Math.abs).sort();
        const n = abs.length;
        const stored = row.get(name, layer) as { median: number; top1: number; top2: number; top3: number };
        expect(stored.median).toBeCloseTo(abs[Math.floor((n - 1) / 2)], 4); // lower median, as torch.median
        expect(stored.top1).toBeCloseTo(abs[n - 1], 2);
        expect(stored.top2).toBeCloseTo(abs[n - 2], 2);
        expect(stored.top3).toBeCloseTo(abs[n - 3], 2);
      }
    }
    db.close();
    await raw.close();
  });
});
