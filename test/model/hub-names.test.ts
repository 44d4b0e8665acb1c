/** Remote names are data: the checks every server-supplied name passes, the file choice, endpoint and catalogue. */
import { describe, expect, it } from 'vitest';
import { MassivitError } from '../../src/contracts/errors.js';
import { CATALOG, formatCatalog } from '../../src/model/hub/catalog.js';
import { etagHash, hubConfig, type RepoInfo } from '../../src/model/hub/client.js';
import { checkCommit, checkRepoId, checkRevision, joinInside, safeRemotePath } from '../../src/model/hub/paths.js';
import { resolveRepo } from '../../src/model/hub/pull.js';
import { selectFiles, variantWarning } from '../../src/model/hub/select.js';

function thrown(fn: () => unknown): MassivitError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MassivitError);
    return err as MassivitError;
  }
  throw new Error('did not throw');
}

describe('remote file names', () => {
  it.each([
    ['../escape.onnx', "'..' component"],
    ['onnx/../../x', "'..' component"],
    ['/etc/passwd', 'absolute path'],
    ['C:/Windows/x.onnx', 'absolute path'],
    ['onnx\\..\\x.onnx', 'backslash'],
    ['onnx/model.onnx\0.txt', 'NUL byte'],
    ['onnx//model.onnx', "empty or '.' component"],
    ['./model.onnx', "empty or '.' component"],
    ['model\n.onnx', 'control characters'],
  ])('refuses %j (%s), naming it', (name, why) => {
    const err = thrown(() => safeRemotePath(name));
    expect(err.code).toBe('BAD_MODEL');
    expect(err.message).toContain(JSON.stringify(name));
    expect(err.message).toContain(why);
  });

  it('accepts the names real repos use', () => {
    for (const n of ['config.json', 'onnx/model.onnx', 'onnx/model_q4f16.onnx', 'onnx/model.onnx_data', 'a b/c..d.onnx']) expect(safeRemotePath(n)).toBe(n);
    expect(thrown(() => safeRemotePath(42)).message).toMatch(/invalid file name: 42/);
  });

  it('keeps joined paths inside their root', () => {
    expect(joinInside('/m/x', 'onnx/model.onnx')).toBe('/m/x/onnx/model.onnx');
    expect(() => joinInside('/m/x', '../y')).toThrow(/path traversal/);
  });

  it('checks repo ids, revisions and commit ids', () => {
    expect(checkRepoId('Xenova/dinov2-small')).toBe('Xenova/dinov2-small');
    for (const bad of ['../x', 'a/../b', 'a/b/c', '/abs', 'a--b/c', 'a/b?c', '']) expect(thrown(() => checkRepoId(bad)).code).toBe('BAD_OPTION');
    expect(checkRevision('refs/pr/1')).toBe('refs/pr/1');
    for (const bad of ['a..b', 'a b', 'x\0']) expect(thrown(() => checkRevision(bad)).code).toBe('BAD_OPTION');
    expect(thrown(() => checkCommit('../../etc')).message).toMatch(/invalid commit id/);
  });

  it('reads ETags as hashes: quoted, weak, sha256 or git sha1, nothing else', () => {
    expect(etagHash(`"${'a'.repeat(64)}"`)).toEqual({ algo: 'sha256', value: 'a'.repeat(64) });
    expect(etagHash(`W/"${'B'.repeat(40)}"`)).toEqual({ algo: 'git-sha1', value: 'b'.repeat(40) });
    expect(etagHash('"../../x"')).toBeUndefined();
    expect(etagHash(null)).toBeUndefined();
  });
});

describe('endpoint and token', () => {
  it('defaults to huggingface.co and honours HF_ENDPOINT and HF_TOKEN', () => {
    expect(hubConfig({})).toEqual({ endpoint: 'https://huggingface.co' });
    expect(hubConfig({ HF_ENDPOINT: 'https://hf-mirror.example/', HF_TOKEN: ' hf_x ' })).toEqual({ endpoint: 'https://hf-mirror.example', token: 'hf_x' });
    expect(thrown(() => hubConfig({ HF_ENDPOINT: 'file:///etc' })).code).toBe('BAD_OPTION');
  });
});

const info = (paths: string[]): RepoInfo => ({ repo: 'o/r', commit: 'c'.repeat(40), files: paths.map((path) => ({ path })) });

describe('which files a pull takes', () => {
  it('fp32 onnx/model.onnx by default, preferring onnx/ over the root', () => {
    const s = selectFiles(info(['config.json', 'preprocessor_config.json', 'model.onnx', 'onnx/model.onnx', 'onnx/model_fp16.onnx']));
    expect(s.files.map((f) => [f.remote.path, f.local])).toEqual([
      ['config.json', 'config.json'],
      ['preprocessor_config.json', 'preprocessor_config.json'],
      ['onnx/model.onnx', 'onnx/model.onnx'],
    ]);
    expect(s.warnings).toEqual([]);
  });

  it('the CLIP vision tower, a variant renamed to the plain name, external data keeping its name', () => {
    const s = selectFiles(info(['config.json', 'onnx/model.onnx', 'onnx/text_model.onnx', 'onnx/vision_model_fp16.onnx', 'onnx/vision_model_fp16.onnx_data', 'onnx/vision_model.onnx']), 'fp16');
    expect(s.files.map((f) => f.local)).toEqual(['config.json', 'onnx/vision_model.onnx', 'onnx/vision_model_fp16.onnx_data']);
    expect(s.visionTower).toBe(true);
    expect(s.warnings).toEqual(['o/r has no preprocessor_config.json: massivit will assume ImageNet-style 224 px preprocessing']);
  });

  it('--file picks any listed file and reports its variant', () => {
    const s = selectFiles(info(['config.json', 'onnx/model.onnx', 'onnx/model_q4.onnx']), 'fp32', 'onnx/model_q4.onnx');
    expect(s.onnx.local).toBe('onnx/model.onnx');
    expect(s.variant).toBe('q4');
    expect(thrown(() => selectFiles(info(['config.json', 'onnx/model.onnx']), 'fp32', 'nope.onnx')).hint).toMatch(/onnx\/model\.onnx/);
  });

  it('warns loudly for every non-fp32 variant, never for fp32', () => {
    expect(variantWarning('fp32')).toBeUndefined();
    expect(variantWarning('quantized')).toMatch(/^WARNING: 'quantized' is a quantized export/);
    expect(variantWarning('fp16')).toMatch(/half-precision/);
  });
});

describe('catalogue', () => {
  it('maps short names to repos with family and token layout', () => {
    expect(resolveRepo('dinov2-small-reg')).toMatchObject({ repo: 'onnx-community/dinov2-with-registers-small', entry: { family: 'dinov2_with_registers', sequenceLength: 261 } });
    expect(resolveRepo('Xenova/clip-vit-base-patch32').entry?.sequenceLength).toBe(50);
    expect(resolveRepo('someone/else')).toEqual({ repo: 'someone/else' });
    // Token counts follow from the layout: CLS + registers + (224 / patch)^2.
    const patch = { 'dinov2-small': 14, 'dinov2-base': 14, 'dinov2-small-reg': 14, 'dinov2-base-reg': 14, 'clip-vit-base-patch32': 32, 'clip-vit-base-patch16': 16, 'vit-base-patch16-224': 16 } as Record<string, number>;
    for (const e of CATALOG) expect(e.sequenceLength).toBe(1 + (e.family === 'dinov2_with_registers' ? 4 : 0) + (e.resolution / patch[e.name]) ** 2);
    expect(formatCatalog()).toMatch(/not downloaded in massivit's offline test suite/);
  });
});
