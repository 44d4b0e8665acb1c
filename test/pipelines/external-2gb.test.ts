/**
 * A model with more than 2 GB of external weights (protobuf's limit for one message) scans end to end, and
 * its weights are never inlined: the graph handed to ONNX Runtime stays small and the process's peak RSS
 * stays far below the weights' size (ORT maps the file and the forward pass touches four values of it).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/load.js';
import { scan } from '../../src/pipelines/scan.js';
import { fixtureModel, IMAGES, tempDir } from '../helpers/env.js';
import { buildHugeExternalModel } from '../helpers/huge-model.js';

const SOURCE = fixtureModel('tiny-vit-op14');
/** 2.2 GB of float32 in one tensor. */
const HUGE = 550_000_000;
const root = tempDir('external-2gb');
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('external weights over 2 GB', () => {
  it('scan without being read into the graph, with the results of the single-file model', async () => {
    const dir = join(root, 'model');
    const total = buildHugeExternalModel(SOURCE, dir, HUGE);
    expect(total).toBeGreaterThan(2 ** 31);
    const spec = loadModel(dir);
    expect(spec.weightBytes).toBeGreaterThan(2 ** 31);
    expect(spec.bytes.length).toBeLessThan(2 ** 20); // the graph handed to ORT: references, not weights
    expect(spec.externalData?.files).toEqual(['model.onnx_data', 'huge.bin']);
    const notices: string[] = [];
    const big = await scan({ model: spec, images: IMAGES, out: join(root, 'big'), limit: 3, device: 'cpu', threads: 1, onNotice: (m) => notices.push(m) });
    const peak = process.resourceUsage().maxRSS * 1024; // bytes, this test file's process (vitest forks)
    expect(peak).toBeLessThan(HUGE * 4 * 0.4);
    const small = await scan({ model: SOURCE, images: IMAGES, out: join(root, 'small'), limit: 3, device: 'cpu', threads: 1 });
    expect(big.summary.images.scanned).toBe(3);
    expect(big.summary.layers).toEqual(small.summary.layers);
    expect(big.summary.massive).toEqual(small.summary.massive);
    // A big model states its cost before the first image, then its speed after the first batch.
    expect(notices[0]).toMatch(/^model: 2\.0 GiB of fp32 weights \+ about \d+ MiB of hidden states for batches of 8 \(17 tokens × 32 dims × 5 layers\)/);
    expect(notices[1]).toMatch(/^first batch: [\d.]+ s per image; about <?\d+ min for 3 images$/);
  });
});
