/**
 * Broken models through the real CLI: each is refused with a specific message and exit 2 before any image
 * is read. "Before": --images points at a folder that does not exist, which the CLI reports (exit 1)
 * only once the model is accepted (the control case shows that), and --out is never created.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLayout, tokenLayout } from '../../src/model/layout.js';
import type { ArchConfig } from '../../src/model/config.js';
import { fixtureModel, IMAGES, tempDir } from '../helpers/env.js';
import { copyFixture, editConfig, editGraph, externalWeights, quantizeMatMulWeights, randomOnnx, renameInput, truncatedOnnx } from '../helpers/broken-models.js';
import { massivit } from '../helpers/cli.js';

interface BrokenModel {
  name: string;
  build: (dir: string) => string;
  message: RegExp;
}

const BROKEN: BrokenModel[] = [
  { name: 'truncated .onnx', build: truncatedOnnx, message: /truncated\.onnx is not a valid ONNX file \(protobuf decode failed: .*\): the file looks truncated/ },
  { name: 'random bytes', build: randomOnnx, message: /random\.onnx is not a valid ONNX file \(protobuf decode failed: .*\): the file is not ONNX/ },
  { name: 'a CNN folder (config says resnet)', build: (d) => copyFixture('tiny-cnn', d), message: /model_type 'resnet' is not a supported ViT family/ },
  {
    name: 'a bare CNN .onnx (no config)',
    build: (d) => (mkdirSync(d), copyFileSync(join(fixtureModel('tiny-cnn'), 'model.onnx'), join(d, 'cnn.onnx')), join(d, 'cnn.onnx')),
    message: /cnn\.onnx does not look like a Vision Transformer/,
  },
  {
    name: 'ViT-reg config with the wrong register count',
    build: (d) => editConfig(copyFixture('tiny-dinov2-reg-op14', d), (c) => (c.num_register_tokens = 2)),
    message: /the graph carries 4 register tokens but config\.json says num_register_tokens 2/,
  },
  {
    name: 'ViT config with the wrong patch size',
    build: (d) => editConfig(copyFixture('tiny-vit-op14', d), (c) => (c.patch_size = 16)),
    message: /config\.json says patch_size 16 but the graph's patch embedding \(Conv\) has a 8×8 kernel/,
  },
  {
    name: 'ViT config with the wrong layer count',
    build: (d) => editConfig(copyFixture('tiny-vit-op14', d), (c) => (c.num_hidden_layers = 3)),
    message: /config\.json says 3 layers but the graph has 4 transformer blocks/,
  },
  {
    name: 'ViT config with the wrong hidden size',
    build: (d) => editConfig(copyFixture('tiny-vit-op14', d), (c) => (c.hidden_size = 48)),
    message: /config\.json says hidden_size 48 but the graph's residual stream has 32 dims/,
  },
  {
    name: "an input that is not 'pixel_values'",
    build: (d) => editGraph(copyFixture('tiny-vit-op14', d), (m) => renameInput(m, 'image')),
    message: /The model's input is not 'pixel_values' \(found 'image'\)/,
  },
  {
    name: 'external weights file missing',
    build: (d) => editGraph(copyFixture('tiny-vit-op14', d), (m) => externalWeights(m, 'model.onnx_data')),
    message: /keeps its weights in the external file 'model\.onnx_data', which is missing/,
  },
  {
    name: 'external weights path escaping the model folder',
    build: (d) => editGraph(copyFixture('tiny-vit-op14', d), (m) => externalWeights(m, '../../etc/passwd')),
    message: /names an external weights file outside its folder \('\.\.\/\.\.\/etc\/passwd'\): refused/,
  },
];

describe('broken models are refused before any image is read', () => {
  it('control: a good model with a missing image folder is refused on the images, before the model loads (exit 2)', () => {
    const out = join(tempDir('hostile-model'), 'out');
    const r = massivit('scan', '--model', fixtureModel('tiny-vit-op14'), '--images', '/nonexistent/images', '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--images \/nonexistent\/images: no such folder/);
  });

  it.each(BROKEN)('$name', ({ build, message }) => {
    const tmp = tempDir('hostile-model');
    const model = build(join(tmp, 'model'));
    const out = join(tmp, 'out');
    // A missing --images is refused before the model loads (issue 12), so the images given here exist;
    // no --out is created, so none of them was scanned.
    const r = massivit('scan', '--model', model, '--images', IMAGES, '--out', out);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });
});

describe('a quantized model', () => {
  it('scans, and scan.json records the precision warning', () => {
    const tmp = tempDir('hostile-quant');
    const model = editGraph(copyFixture('tiny-vit-op14', join(tmp, 'model')), (m) => expect(quantizeMatMulWeights(m)).toBeGreaterThan(8));
    const images = join(tmp, 'images');
    mkdirSync(images);
    for (const name of ['chelsea.png', 'camera.png']) copyFileSync(join(IMAGES, name), join(images, name));
    const out = join(tmp, 'out');
    const r = massivit('scan', '--model', model, '--images', images, '--out', out, '--threads', '1');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: The model's weights are int8/);
    const summary = JSON.parse(readFileSync(join(out, 'scan.json'), 'utf8'));
    expect(summary.images).toMatchObject({ scanned: 2, failed: 0 });
    expect(summary.warnings).toEqual([expect.stringMatching(/^The model's weights are int8: quantized and half-precision files change activation magnitudes/)]);
  });
});

describe('token-count mismatches name the field (when the patch Conv cannot be inspected)', () => {
  const arch = (patchSize: number, family: ArchConfig['family'], numRegisters: number): ArchConfig => ({ family, numLayers: 4, hiddenSize: 32, numHeads: 2, patchSize, imageSize: 32, numRegisters });

  it('a wrong patch size', () => {
    const a = arch(16, 'vit', 0);
    expect(() => checkLayout(tokenLayout(a, 32, 32), a, 17, 32, [32, 32])).toThrow(/the graph's 4×4 patch grid means patch_size 8, but config\.json says patch_size 16/);
  });

  it('a wrong register count', () => {
    const a = arch(8, 'dinov2_with_registers', 2);
    expect(() => checkLayout(tokenLayout(a, 40, 40), a, 30, 32, [40, 40])).toThrow(/the graph carries 4 register tokens but config\.json says num_register_tokens 2/);
  });
});
