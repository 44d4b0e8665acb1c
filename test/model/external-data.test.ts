/** Models whose weights live in a side file (model.onnx_data) scan exactly like single-file ones. */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scan } from '../../src/pipelines/scan.js';
import { decodeModel, encodeModel } from '../../src/model/onnx.js';
import { fixtureModel, IMAGES, tempDir } from '../helpers/env.js';

const SOURCE = fixtureModel('tiny-vit-op14');

/** Moves every initializer of 1 KiB or more into model.onnx_data, as torch.onnx / optimum do for big models. */
function externalise(dir: string): number {
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'preprocessor_config.json']) copyFileSync(join(SOURCE, f), join(dir, f));
  const model = decodeModel(readFileSync(join(SOURCE, 'model.onnx')));
  const chunks: Buffer[] = [];
  let offset = 0;
  let moved = 0;
  for (const t of model.graph!.initializer ?? []) {
    const raw = t.rawData;
    if (!raw || raw.length < 1024) continue;
    chunks.push(Buffer.from(raw));
    t.externalData = [
      { key: 'location', value: 'model.onnx_data' },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    t.dataLocation = 1;
    t.rawData = new Uint8Array(0);
    offset += raw.length;
    moved += 1;
  }
  writeFileSync(join(dir, 'model.onnx_data'), Buffer.concat(chunks));
  writeFileSync(join(dir, 'model.onnx'), encodeModel(model));
  return moved;
}

describe('external weights', () => {
  it('are read into the graph, and the scan finds the same activations as the single-file model', async () => {
    const root = tempDir('external');
    const dir = join(root, 'model');
    expect(externalise(dir)).toBeGreaterThan(10);
    expect(readFileSync(join(dir, 'model.onnx')).length).toBeLessThan(readFileSync(join(SOURCE, 'model.onnx')).length / 2);
    const split = await scan({ model: dir, images: IMAGES, out: join(root, 'split'), limit: 4, device: 'cpu', threads: 1, view: false });
    const whole = await scan({ model: SOURCE, images: IMAGES, out: join(root, 'whole'), limit: 4, device: 'cpu', threads: 1, view: false });
    expect(split.summary.massive.length).toBeGreaterThan(0);
    expect(split.summary.massive).toEqual(whole.summary.massive);
    expect(split.summary.layers).toEqual(whole.summary.layers);
  });
});
