/** --image-size: DINOv2 graphs run at another size, with the token layout following; fixed-size models say so. */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MassivitError } from '../../src/contracts/errors.js';
import { layerHook } from '../../src/contracts/hooks.js';
import { loadModel } from '../../src/model/load.js';
import { openRunner } from '../../src/run/runner.js';
import { scan } from '../../src/pipelines/scan.js';
import { fixtureModel, IMAGES, tempDir } from '../helpers/env.js';
import { massivit } from '../helpers/cli.js';
import { buildResizableModel } from './resizable-model.js';

const EXPORTED = fixtureModel('tiny-dinov2-reg-op17'); // patch 8, 40 px: 1 CLS + 4 registers + 5×5 patches
const CPU = { device: 'cpu', threads: 1 } as const;

describe('--image-size', () => {
  const REG = buildResizableModel(EXPORTED, join(tempDir('resizable'), 'model'));

  it('is refused for a DINOv2 graph exported with a constant patch grid, and the probe would refuse it too', async () => {
    expect(() => loadModel(EXPORTED, { imageSize: 56 })).toThrow(/interpolates its position embeddings to a constant patch grid/);
    expect(loadModel(EXPORTED, { imageSize: 40 }).tokens.sequenceLength).toBe(30); // its own size: nothing changes
  });

  it('at the model\'s own size gives the same hidden states as without the flag', async () => {
    const [a, b] = [await openRunner(loadModel(REG, { imageSize: 40 }), { expose: [layerHook(4)] }, CPU), await openRunner(loadModel(EXPORTED), { expose: [layerHook(4)] }, CPU)];
    const px = [new Float32Array(3 * 40 * 40).map((_, i) => Math.cos(i))];
    expect(Array.from((await a.run(px))[layerHook(4)].data as Float32Array)).toEqual(Array.from((await b.run(px))[layerHook(4)].data as Float32Array));
    await Promise.all([a.close(), b.close()]);
  });

  it('runs a DINOv2-reg graph at 56 px: a 7×7 grid, 54 tokens, checked by the probe', async () => {
    const spec = loadModel(REG, { imageSize: 56 });
    expect([spec.preprocess.height, spec.preprocess.width, spec.preprocess.crop]).toEqual([56, 56, { height: 56, width: 56 }]);
    expect(spec.preprocess.resize).toEqual({ kind: 'shortest_edge', edge: 64 }); // 46 : 40 kept
    expect(spec.tokens).toMatchObject({ patchGrid: [7, 7], sequenceLength: 54, registers: [1, 2, 3, 4] });
    const runner = await openRunner(spec, { expose: [layerHook(4)] }, CPU);
    const out = await runner.run([new Float32Array(3 * 56 * 56).fill(0.3)]);
    expect(out[layerHook(4)].dims).toEqual([1, 54, 32]);
    expect(Array.from(out[layerHook(4)].data as Float32Array).every(Number.isFinite)).toBe(true);
    await runner.close();
  });

  it('scans at the new size and records the input size and patch grid', async () => {
    const root = tempDir('resolution');
    const { summary } = await scan({ model: REG, imageSize: 56, images: IMAGES, out: join(root, 'at56'), limit: 2, ...CPU });
    expect(summary.model.inputSize).toEqual([56, 56]);
    expect(summary.model.tokens.patchGrid).toEqual([7, 7]);
    expect(summary.model.sequenceLength).toBe(54);
    expect(summary.images.scanned).toBe(2);
  });

  it('applies to a bare .onnx too: a resizable graph follows, a fixed-size ViT graph is refused before ORT sees it', async () => {
    const bare = { family: 'dinov2_with_registers' as const, registers: 4, imageSize: 56 };
    const alone = join(tempDir('bare-resize'), 'model.onnx'); // no config.json beside it
    copyFileSync(join(REG, 'model.onnx'), alone);
    expect(loadModel(alone, { ...bare, imageSize: 40 }).resizedTo).toBeUndefined(); // its own size
    const spec = loadModel(alone, bare);
    expect([spec.resizedTo, spec.tokens.sequenceLength]).toEqual([56, 54]);
    const runner = await openRunner(spec, { expose: [layerHook(1)] }, CPU); // the probe passes at 56 px
    await runner.close();
    const vit = join(tempDir('bare-vit'), 'model.onnx');
    copyFileSync(join(fixtureModel('tiny-vit-op17'), 'onnx', 'model.onnx'), vit);
    expect(() => loadModel(vit, { patchSize: 8, imageSize: 64 })).toThrow(/--image-size 64: .*vit model, whose position embeddings have a fixed size/);
  });

  it('is refused for a ViT, whose position embeddings have a fixed size', () => {
    const refuse = () => loadModel(fixtureModel('tiny-vit-op17'), { imageSize: 64 });
    expect(refuse).toThrow(MassivitError);
    expect(refuse).toThrow(/--image-size 64: .* vit model, whose position embeddings have a fixed size/);
  });

  it('is accepted by the CLI for a folder model, and a fixed-size one exits 2 with one line', () => {
    const run = (model: string) => massivit('scan', '--model', model, '--images', IMAGES, '--out', join(tempDir('resolution-cli'), 'o'), '--image-size', '64', '--limit', '1', '--no-report', '--threads', '1');
    const vit = run(fixtureModel('tiny-vit-op17'));
    expect(vit.code).toBe(2);
    expect(vit.stderr).toMatch(/--image-size 64: .*fixed size/);
    expect(vit.stderr).not.toMatch(/at .*\.js:\d+/); // no stack trace
    const reg = run(REG);
    expect(reg.stderr).not.toMatch(/only applies to a bare/);
    expect(reg.code).toBe(0);
  });
});
