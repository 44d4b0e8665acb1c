/** The CLI as a user runs it: a real process, real exit codes, messages on stderr. */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureModel, IMAGES, tempDir } from '../helpers/env.js';
import { massivit } from '../helpers/cli.js';

const model = fixtureModel('tiny-dinov2-reg-op17');

describe('massivit scan', () => {
  it('lists a broken image in errors, scans the rest, exits 0, and --json prints the summary', () => {
    const images = tempDir('cli-images');
    for (const name of ['chelsea.png', 'coffee.png', 'rocket.jpg']) copyFileSync(join(IMAGES, name), join(images, name));
    writeFileSync(join(images, 'broken.jpg'), readFileSync(join(IMAGES, 'rocket.jpg')).subarray(0, 500));
    const out = join(tempDir('cli-out'), 'scan');
    const r = massivit('scan', '--model', model, '--images', images, '--out', out, '--json');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.images.scanned).toBe(3);
    expect(summary.images.failed).toBe(1);
    expect(summary.images.errors).toEqual([{ path: 'broken.jpg', reason: expect.stringMatching(/^cannot decode: .*(premature|truncat|corrupt|end of)/i) }]);
    expect(summary.massive[0]).toMatchObject({ role: 'register', token: 3 });
    expect(existsSync(join(out, 'scan.json'))).toBe(true);
    expect(existsSync(join(out, 'scan.sqlite'))).toBe(true);
  });

  it('refuses a corrupt model with exit 2 before looking at the images', () => {
    const bad = join(tempDir('cli-bad'), 'model.onnx');
    writeFileSync(bad, readFileSync(join(model, 'model.onnx')).subarray(0, 4000));
    const out = join(tempDir('cli-out'), 'x');
    const r = massivit('scan', '--model', bad, '--images', IMAGES, '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is not a valid ONNX file \(protobuf decode failed/);
    expect(existsSync(out)).toBe(false); // refused before the scan began
  });

  it('refuses a non-ViT with a message naming the problem', () => {
    const r = massivit('scan', '--model', fixtureModel('tiny-cnn'), '--images', IMAGES, '--out', join(tempDir('cli-out'), 'x'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/model_type 'resnet' is not a supported ViT family/);
  });

  it('bad flags exit 2 and name the flag', () => {
    const r = massivit('scan', '--model', model, '--images', IMAGES, '--out', 'x', '--batch', 'zero');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^massivit: option '-b, --batch <n>' argument 'zero' is invalid. expected an integer in 1…1024, got 'zero'/);
    const d = massivit('scan', '--model', model, '--images', IMAGES, '--out', 'x', '--device', 'tpu');
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/Allowed choices are auto, cpu, cuda/);
  });
});

describe('massivit models inspect', () => {
  it('shows family, layout and the taps found', () => {
    const r = massivit('models', 'inspect', model, '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({ family: 'dinov2_with_registers', numLayers: 4, hiddenSize: 32, opset: 17, precision: 'fp32', layerNorm: 'LayerNormalization', coversEveryBlock: true });
    expect(info.tokens).toEqual({ sequenceLength: 30, cls: 0, registers: [1, 2, 3, 4], patchStart: 5, patchGrid: [5, 5] });
    expect(Object.keys(info.taps)).toContain('blocks.3.hook_resid_post');
    expect(Object.keys(info.taps)).toContain('blocks.0.attn.hook_pattern');
  });
});
