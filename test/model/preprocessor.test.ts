import { describe, expect, it } from 'vitest';
import { parsePreprocessor } from '../../src/model/preprocessor.js';
import { parseArchConfig } from '../../src/model/config.js';
import { tokenLayout, tokenRole, patchPosition, checkLayout } from '../../src/model/layout.js';
import { resizeTarget } from '../../src/images/model-view.js';

describe('preprocessor_config.json', () => {
  it('ViTImageProcessor: exact resize, no crop', () => {
    const p = parsePreprocessor({ image_processor_type: 'ViTImageProcessor', size: { height: 224, width: 224 }, resample: 3, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] }, 'vit');
    expect(p).toMatchObject({ resize: { kind: 'exact', height: 224, width: 224 }, crop: null, resample: 'bicubic', height: 224, width: 224 });
  });

  it('BitImageProcessor (DINOv2): shortest edge then center crop', () => {
    const p = parsePreprocessor({ image_processor_type: 'BitImageProcessor', size: { shortest_edge: 256 }, do_center_crop: true, crop_size: { height: 224, width: 224 }, resample: 3 }, 'dinov2');
    expect(p.resize).toEqual({ kind: 'shortest_edge', edge: 256 });
    expect(p.crop).toEqual({ height: 224, width: 224 });
    // HF: long side = int(s * long / short), multiply then truncate.
    expect(resizeTarget(p, 451, 300)).toEqual({ width: 384, height: 256 });
    expect(resizeTarget(p, 300, 451)).toEqual({ width: 256, height: 384 });
  });

  it('a bare integer size is square for ViT and shortest-edge for CLIP', () => {
    expect(parsePreprocessor({ image_processor_type: 'ViTImageProcessor', size: 224 }, 'vit').resize).toEqual({ kind: 'exact', height: 224, width: 224 });
    expect(parsePreprocessor({ image_processor_type: 'CLIPImageProcessor', size: 224, do_center_crop: true, crop_size: 224 }, 'clip_vision_model').resize).toEqual({ kind: 'shortest_edge', edge: 224 });
  });

  it('names what it cannot read', () => {
    expect(() => parsePreprocessor({ size: { foo: 1 } }, 'vit')).toThrow("preprocessor_config.json: cannot read size {\"foo\":1}");
    expect(() => parsePreprocessor({ size: { height: 224, width: 224 }, resample: 9 }, 'vit')).toThrow('unknown resample code 9');
  });
});

describe('config.json and token layout', () => {
  const reg = parseArchConfig({ model_type: 'dinov2_with_registers', num_hidden_layers: 12, hidden_size: 384, num_attention_heads: 6, patch_size: 14, image_size: 518, num_register_tokens: 4 });

  it('DINOv2-reg: [CLS, reg1..reg4, patches], 261 tokens at 224 px', () => {
    const t = tokenLayout(reg, 224, 224);
    expect(t).toEqual({ cls: 0, registers: [1, 2, 3, 4], patchStart: 5, patchGrid: [16, 16], sequenceLength: 261 });
    expect([0, 3, 5].map((i) => tokenRole(t, i))).toEqual(['cls', 'register', 'patch']);
    expect(patchPosition(t, 5)).toEqual([0, 0]);
    expect(patchPosition(t, 5 + 16 * 2 + 3)).toEqual([2, 3]);
    expect(patchPosition(t, 3)).toBeUndefined();
  });

  it('CLIP folder: reads the nested vision_config', () => {
    const a = parseArchConfig({ model_type: 'clip', vision_config: { num_hidden_layers: 12, hidden_size: 768, num_attention_heads: 12, patch_size: 32, image_size: 224 } });
    expect(a.family).toBe('clip_vision_model');
    expect(tokenLayout(a, 224, 224).sequenceLength).toBe(50);
  });

  it('refuses a config that disagrees with the graph', () => {
    const t = tokenLayout(reg, 224, 224);
    expect(() => checkLayout(t, reg, 257, 384)).toThrow(/implies 261 tokens \(1 CLS \+ 4 registers \+ 16×16 patches of 14px\) but the graph produced 257/);
    expect(() => checkLayout(t, reg, 261, 768)).toThrow('config.json says hidden_size 384 but the graph\'s residual stream has 768 dims');
  });

  it('refuses non-ViT model types by name', () => {
    expect(() => parseArchConfig({ model_type: 'resnet' })).toThrow("model_type 'resnet' is not a supported ViT family");
  });
});
