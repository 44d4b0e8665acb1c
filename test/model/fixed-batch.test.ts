/** A graph exported with a fixed batch of 1 runs one image per pass, with a notice, and agrees with its dynamic twin. */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../../src/model/load.js';
import { openRunner } from '../../src/run/runner.js';
import { createSession, ort } from '../../src/run/session.js';
import { scan } from '../../src/pipelines/scan.js';
import { decodeModel, encodeModel } from '../../src/model/onnx.js';
import { fixtureModel, IMAGES, tempDir } from '../helpers/env.js';

const SOURCE = fixtureModel('tiny-vit-op14');
const CPU = { device: 'cpu', threads: 1 } as const;

function fixBatch(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'preprocessor_config.json']) copyFileSync(join(SOURCE, f), join(dir, f));
  const model = decodeModel(readFileSync(join(SOURCE, 'model.onnx')));
  model.graph!.input!.find((i) => i.name === 'pixel_values')!.type!.tensorType!.shape!.dim![0] = { dimValue: 1 };
  writeFileSync(join(dir, 'model.onnx'), encodeModel(model));
  return dir;
}

describe('fixed batch size', () => {
  const root = tempDir('fixed-batch');
  const dir = fixBatch(join(root, 'model'));

  it('is refused by ONNX Runtime for two images at once, so the runner must split', async () => {
    const spec = loadModel(dir);
    expect(spec.fixedBatch).toBe(1);
    expect(loadModel(SOURCE).fixedBatch).toBeUndefined();
    const { session } = await createSession(spec.bytes, CPU);
    const two = new ort.Tensor('float32', new Float32Array(2 * 3 * 32 * 32), [2, 3, 32, 32]);
    await expect(session.run({ pixel_values: two })).rejects.toThrow(/dimension|Expected: 1/i);
    await session.release();
  });

  it('runs three images through a runner as three passes, equal to the dynamic model', async () => {
    const plan = { expose: ['blocks.1.hook_resid_post' as const] };
    const fixed = await openRunner(loadModel(dir), plan, CPU);
    const dynamic = await openRunner(loadModel(SOURCE), plan, CPU);
    const pixels = [0.1, -0.4, 0.7].map((v) => new Float32Array(3 * 32 * 32).map((_, i) => v * Math.sin(i)));
    const [a, b] = [await fixed.run(pixels), await dynamic.run(pixels)];
    const [x, y] = [a['blocks.1.hook_resid_post'], b['blocks.1.hook_resid_post']];
    expect(x.dims).toEqual(y.dims);
    const diff = Math.max(...Array.from(x.data as Float32Array, (v, i) => Math.abs(v - (y.data as Float32Array)[i])));
    expect(diff).toBeLessThan(1e-5); // batch 1 vs 3 changes only the order of float sums
    await Promise.all([fixed.close(), dynamic.close()]);
  });

  it('scans with batch 1 and a notice, even when --batch asks for more, with the dynamic model\'s results', async () => {
    const notices: string[] = [];
    const fixed = await scan({ model: dir, images: IMAGES, out: join(root, 'fixed'), batch: 4, limit: 5, ...CPU, onNotice: (m) => notices.push(m) });
    const dynamic = await scan({ model: SOURCE, images: IMAGES, out: join(root, 'dynamic'), batch: 4, limit: 5, ...CPU });
    expect(notices.filter((n) => /fixed batch size of 1/.test(n))).toEqual([expect.stringMatching(/--batch 4 ignored/)]);
    expect(fixed.summary.images.scanned).toBe(5);
    expect(fixed.summary.massive).toEqual(dynamic.summary.massive);
    expect(fixed.summary.layers.length).toBe(dynamic.summary.layers.length);
  });
});
