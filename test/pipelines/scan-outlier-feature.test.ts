/**
 * Massive activations vs outlier features (Dettmers et al.): a dim that is large in only a few tokens is a
 * massive activation; one that is large across most tokens is an outlier feature. No fixture has an outlier
 * feature, so this test makes one the way weights do: it adds 30 to dim 9 of block 1's MLP output bias in
 * tiny-dinov2-reg-op17, so every token carries ≈ +30 in dim 9 from layer 1 on, and keeps the planted
 * register activation. 30 is large enough to stay above 20× the median in every layer, and small enough
 * not to swamp the LayerNorm that the planted detector reads (at +60 the planted activation vanishes).
 */
import { mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { residMid, residPost } from '../../src/contracts/hooks.js';
import { indexGraph, nodesBetween } from '../../src/model/graph.js';
import { scan } from '../../src/pipelines/scan.js';
import { findHooks } from '../../src/model/hook-table.js';
import { decodeModel, encodeModel } from '../../src/model/onnx.js';
import { fixtureModel, IMAGES, tempDir } from '../helpers/env.js';

const SOURCE = fixtureModel('tiny-dinov2-reg-op17');
const DIM = 9;

function withOutlierFeature(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'preprocessor_config.json']) copyFileSync(join(SOURCE, f), join(dir, f));
  const model = decodeModel(readFileSync(join(SOURCE, 'model.onnx')));
  const hooks = findHooks(model);
  const graph = model.graph!;
  // The MLP branch of block 1 lies between its mid and post streams; its last bias Add is fc2's bias.
  const mlp = nodesBetween(indexGraph(graph), hooks.tensors.get(residMid(0))!, hooks.tensors.get(residPost(0))!);
  const biases = new Map((graph.initializer ?? []).filter((t) => t.dims?.length === 1 && Number(t.dims[0]) === 32).map((t) => [t.name!, t]));
  const fc2 = mlp.filter((n) => n.opType === 'Add' && n.input!.some((i) => biases.has(i)));
  const tensor = biases.get(fc2[fc2.length - 1].input!.find((i) => biases.has(i))!)!;
  const raw = Buffer.from(tensor.rawData!);
  const values = new Float32Array(raw.buffer, raw.byteOffset, 32);
  values[DIM] += 30;
  tensor.rawData = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  writeFileSync(join(dir, 'model.onnx'), encodeModel(model));
}

describe('outlier features are reported apart from massive activations', () => {
  it('finds dim 9 as an outlier feature and the planted register cells as massive', async () => {
    const dir = join(tempDir('outlier'), 'model');
    withOutlierFeature(dir);
    const { summary } = await scan({ model: dir, images: IMAGES, out: join(dir, 'out'), device: 'cpu', threads: 1, limit: 5 });
    const layers = summary.outlierFeatures.filter((o) => o.dim === DIM).map((o) => o.layer);
    expect(layers).toEqual([1, 2, 3, 4]);
    for (const o of summary.outlierFeatures) {
      expect(o.dim).toBe(DIM);
      expect(o.images).toBe(5);
      expect(o.meanTokens).toBeGreaterThan(0.9 * 30);
    }
    expect(summary.massive.length).toBeGreaterThan(0);
    for (const g of summary.massive) {
      expect(g.dim).not.toBe(DIM);
      expect(g).toMatchObject({ role: 'register', token: 3 });
    }
  });
});
