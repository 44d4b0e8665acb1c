/**
 * The one runner (run/runner.ts) over the one rewrite (tap/plan.ts applyTap): the identity edit reproduces
 * the unmodified model exactly, one plan can expose hooks and edit at once, and the probe pass measures a
 * bare .onnx model's width without changing the caller's spec.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { layerHook } from '../../src/contracts/hooks.js';
import { loadModel, type ModelSpec } from '../../src/model/load.js';
import { openRunner } from '../../src/run/runner.js';
import { createSession, ort } from '../../src/run/session.js';
import { cellsAt, type CellsValues } from '../../src/tap/edits.js';
import { fixtureModel, tempDir } from '../helpers/env.js';

const CPU = { device: 'cpu' as const, threads: 1 };

/** Two deterministic non-trivial images. */
function images(spec: ModelSpec): Float32Array[] {
  const per = 3 * spec.preprocess.height * spec.preprocess.width;
  return [0, 1].map((k) => Float32Array.from({ length: per }, (_, i) => Math.sin((i + k * per) * 0.37) * 1.5));
}

/** The model's own outputs from a session on the untouched bytes. */
async function unmodified(spec: ModelSpec, pixels: Float32Array[]): Promise<Record<string, ort.Tensor>> {
  const { height, width } = spec.preprocess;
  const data = new Float32Array(pixels.length * 3 * height * width);
  pixels.forEach((p, i) => data.set(p, i * p.length));
  const { session } = await createSession(spec.bytes, CPU);
  try {
    return (await session.run({ [spec.inputName]: new ort.Tensor('float32', data, [pixels.length, 3, height, width]) })) as Record<string, ort.Tensor>;
  } finally {
    await session.release();
  }
}

const identity = (n: number): CellsValues => ({ kind: 'cells', mask: new Float32Array(n).fill(1), fill: new Float32Array(n) });

describe.each(['tiny-vit-op14', 'tiny-dinov2-reg-op17'])('identity edit through the runner on %s', (name) => {
  it('gives bit-identical model outputs, with explicit identity values and with none', async () => {
    const spec = loadModel(fixtureModel(name));
    const [T, D] = [spec.tokens.sequenceLength, spec.arch.hiddenSize];
    const pixels = images(spec);
    const original = await unmodified(spec, pixels);
    for (const layer of [0, 2, spec.arch.numLayers]) {
      const runner = await openRunner(spec, { expose: [], edits: [cellsAt(layer, T, D)], keepOutputs: true }, CPU);
      try {
        const explicit = await runner.run(pixels, { edits: [identity(T * D)] });
        const implicit = await runner.run(pixels);
        for (const out of spec.outputNames) {
          expect(explicit[out].data, `${out} at layer ${layer}`).toEqual(original[out].data);
          expect(implicit[out].data, `${out} at layer ${layer}, no values`).toEqual(original[out].data);
        }
      } finally {
        await runner.close();
      }
    }
  });
});

describe('one plan that exposes and edits', () => {
  const spec = loadModel(fixtureModel('tiny-dinov2-reg-op17'));
  const [T, D] = [spec.tokens.sequenceLength, spec.arch.hiddenSize];
  const L = 1;
  const [at, next] = [layerHook(L), layerHook(L + 1)];

  it('exposes layer L+1 with the edit of layer L in effect, and layer L as computed', async () => {
    const pixels = images(spec);
    const plain = await openRunner(spec, { expose: [at, next] }, CPU);
    const reference = await plain.run(pixels);
    await plain.close();
    const runner = await openRunner(spec, { expose: [at, next], edits: [cellsAt(L, T, D)] }, CPU);
    try {
      const same = await runner.run(pixels);
      expect(same[next].data).toEqual(reference[next].data);
      expect(same[at].data).toEqual(reference[at].data);
      // Every dim of the CLS token set to 5 at layer L.
      const edit = identity(T * D);
      for (let d = 0; d < D; d++) [edit.mask[d], edit.fill[d]] = [0, 5];
      const edited = await runner.run(pixels, { edits: [edit] });
      expect(edited[at].data).toEqual(reference[at].data);
      expect(edited[next].data).not.toEqual(reference[next].data);
      // Only the fetched outputs come back when a run names them.
      expect(Object.keys(await runner.run(pixels, { edits: [edit], outputs: [next] }))).toEqual([next]);
    } finally {
      await runner.close();
    }
  });

  it('refuses edit values that do not match the plan', async () => {
    const runner = await openRunner(spec, { expose: [next], edits: [cellsAt(L, T, D)] }, CPU);
    try {
      await expect(runner.run(images(spec), { edits: [] })).rejects.toThrow(/0 edit values for 1 edits/);
      await expect(runner.run(images(spec), { outputs: ['logits'] })).rejects.toThrow(/no output logits/);
    } finally {
      await runner.close();
    }
  });
});

describe('the probe pass', () => {
  it("measures a bare .onnx model's width and returns it in the runner's spec, leaving the caller's alone", async () => {
    const dir = tempDir('bare-onnx');
    copyFileSync(join(fixtureModel('tiny-vit-op14'), 'model.onnx'), join(dir, 'model.onnx'));
    const bare = loadModel(join(dir, 'model.onnx'), { imageSize: 32, patchSize: 8 });
    expect(bare.arch.hiddenSize).toBe(0);
    const runner = await openRunner(bare, { expose: [layerHook(0)] }, CPU);
    await runner.close();
    expect(runner.spec.arch.hiddenSize).toBe(32);
    expect(bare.arch.hiddenSize).toBe(0);
  });
});
