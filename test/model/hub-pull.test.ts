/**
 * `pullModel` against a local hub look-alike (hub-server.ts) serving the project's tiny fixture models:
 * real HTTP over 127.0.0.1, real files, real loadModel on the result.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MassivitError } from '../../src/contracts/errors.js';
import { loadModel } from '../../src/model/load.js';
import { pullModel, type PullOptions } from '../../src/model/hub/pull.js';
import { fixtureModel } from '../helpers/env.js';
import { sha256 } from '../helpers/hub-server.js';
import { filesUnder, useFixtureHub } from '../helpers/hub-fixture.js';

const fx = useFixtureHub('pull');
const { models, cache } = fx;
function opts(repo: string, extra: Partial<PullOptions> = {}): PullOptions {
  return { repo, modelsDir: models(), cacheDir: cache(), env: { HF_ENDPOINT: fx.hub.url }, limits: { backoffMs: 5 }, ...extra };
}
const fileGets = () => fx.hub.log.filter((r) => r.method === 'GET' && (r.server === 'cdn' || r.path.includes('/resolve/')));
async function failure(p: Promise<unknown>): Promise<MassivitError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(MassivitError);
  return err as MassivitError;
}

describe('models pull: happy path', () => {
  it('puts config, preprocessor and the fp32 ONNX into models/<name> in the HF layout, and loadModel works', async () => {
    const r = await pullModel(opts('test-org/tiny-dinov2-reg'));
    expect(r.name).toBe('tiny-dinov2-reg');
    expect(r.variant).toBe('fp32');
    expect(r.files.every((f) => !f.cached)).toBe(true);
    expect(filesUnder(models())).toEqual(['tiny-dinov2-reg/.massivit-pull.json', 'tiny-dinov2-reg/config.json', 'tiny-dinov2-reg/onnx/model.onnx', 'tiny-dinov2-reg/preprocessor_config.json']);
    const onnx = readFileSync(join(r.dir, 'onnx/model.onnx'));
    expect(sha256(onnx)).toBe(sha256(readFileSync(join(fixtureModel('tiny-dinov2-reg-op14'), 'model.onnx'))));
    const spec = loadModel(r.dir);
    expect(spec.arch.family).toBe('dinov2_with_registers');
    expect(spec.tokens.registers).toHaveLength(4);
    expect(spec.precision).toBe('fp32');
    expect(spec.warnings).toEqual([]);
    // Only the cache holds blobs; no .part or staging folder anywhere.
    expect(filesUnder(cache()).filter((p) => p.endsWith('.part'))).toEqual([]);
    expect(readdirSync(models())).toEqual(['tiny-dinov2-reg']);
    // The LFS file went through the hub's 302 to the CDN, which saw no credentials.
    expect(fx.hub.log.some((l) => l.server === 'cdn' && l.method === 'GET')).toBe(true);
    const manifest = JSON.parse(readFileSync(join(r.dir, '.massivit-pull.json'), 'utf8'));
    expect(manifest).toMatchObject({ repo: 'test-org/tiny-dinov2-reg', revision: 'main', commit: r.commit, variant: 'fp32', endpoint: fx.hub.url });
  });

  it('reuses the cache: a second pull makes no file GET, and another name is a local copy', async () => {
    await pullModel(opts('test-org/tiny-dinov2-reg'));
    fx.hub.log.length = 0;
    const again = await pullModel(opts('test-org/tiny-dinov2-reg'));
    expect(again.upToDate).toBe(true);
    expect(again.files.every((f) => f.cached)).toBe(true);
    const copy = await pullModel(opts('test-org/tiny-dinov2-reg', { name: 'second-copy' }));
    expect(copy.upToDate).toBe(false);
    expect(copy.files.every((f) => f.cached)).toBe(true);
    expect(fileGets()).toEqual([]);
    expect(fx.hub.log.every((l) => l.path.startsWith('/api/models/test-org/tiny-dinov2-reg/revision/main'))).toBe(true);
    expect(loadModel(copy.dir).arch.family).toBe('dinov2_with_registers');
  });

  it('takes only the vision tower of a CLIP repo, under the name the loader looks for', async () => {
    const notices: string[] = [];
    const r = await pullModel(opts('test-org/tiny-clip', { onNotice: (m) => notices.push(m) }));
    expect(r.files.map((f) => f.local)).toEqual(['config.json', 'preprocessor_config.json', 'onnx/vision_model.onnx']);
    expect(notices.join('\n')).toMatch(/vision tower only/);
    expect(fx.hub.log.some((l) => /text_model|\/onnx\/model\.onnx/.test(l.path))).toBe(false);
    expect(loadModel(r.dir).arch.family).toBe('clip_vision_model');
  });

  it('saves a variant under the plain name, in <name>-<variant>, with a loud warning', async () => {
    const notices: string[] = [];
    const r = await pullModel(opts('test-org/tiny-dinov2-reg', { variant: 'quantized', onNotice: (m) => notices.push(m) }));
    expect(r.name).toBe('tiny-dinov2-reg-quantized');
    expect(r.files.find((f) => f.remote === 'onnx/model_quantized.onnx')?.local).toBe('onnx/model.onnx');
    expect(r.warnings[0]).toMatch(/^WARNING: 'quantized' is a quantized export.*activation magnitudes/);
    expect(notices[0]).toBe(r.warnings[0]);
    const err = await failure(pullModel(opts('test-org/tiny-dinov2-reg', { variant: 'q4' })));
    expect(err.code).toBe('BAD_OPTION');
    expect(err.message).toMatch(/Variant 'q4' is not in test-org\/tiny-dinov2-reg@[0-9a-f]{7}: available fp32 \(onnx\/model\.onnx\), fp16 \(onnx\/model_fp16\.onnx\), quantized/);
  });

  it('downloads external data listed beside the chosen file, and nothing else', async () => {
    const r = await pullModel(opts('test-org/external-data'));
    expect(r.files.map((f) => f.local)).toEqual(['config.json', 'preprocessor_config.json', 'onnx/model.onnx', 'onnx/model.onnx_data']);
  });

  it('resolves catalogue names to their repo and layout', async () => {
    const r = await pullModel(opts('dinov2-small-reg'));
    expect(r.repo).toBe('onnx-community/dinov2-with-registers-small');
    expect(r.name).toBe('dinov2-small-reg');
    expect(r.catalog).toMatchObject({ family: 'dinov2_with_registers', sequenceLength: 261 });
    const err = await failure(pullModel(opts('dinov3-giant')));
    expect(err.code).toBe('BAD_OPTION');
    expect(err.hint).toMatch(/dinov2-small-reg/);
  });
});

describe('models pull: resume, hashes and errors', () => {
  it('resumes a truncated download with Range: bytes=N- and verifies it', async () => {
    fx.hub.faults.truncate.set('onnx/model.onnx', 1);
    const notices: string[] = [];
    const r = await pullModel(opts('test-org/tiny-dinov2-reg', { onNotice: (m) => notices.push(m) }));
    expect(notices).toEqual([expect.stringMatching(/^onnx\/model\.onnx: the connection (dropped|closed)\b.*; resuming at byte [1-9]\d* \(attempt 2 of 3\)$/)]);
    const gets = fx.hub.log.filter((l) => l.server === 'cdn' && l.path.endsWith(sha256(readFileSync(join(r.dir, 'onnx/model.onnx')))));
    expect(gets).toHaveLength(2);
    expect(gets[0].range).toBeUndefined();
    expect(gets[1].range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(loadModel(r.dir).arch.numLayers).toBe(4);
  });

  it('a download cut off for good leaves no files in models/, keeps the .part in the cache, and the next pull resumes it', async () => {
    fx.hub.faults.truncate.set('onnx/model.onnx', 1);
    const err = await failure(pullModel(opts('test-org/tiny-dinov2-reg', { retries: 0 })));
    expect(err.code).toBe('NETWORK');
    expect(err.message).toMatch(/Download of onnx\/model\.onnx from test-org\/tiny-dinov2-reg stopped at \d+ of \d+ bytes/);
    expect(err.hint).toMatch(/partial file stays in the cache .*run the same pull again to resume/);
    expect(filesUnder(models())).toEqual([]);
    const parts = filesUnder(cache()).filter((p) => p.endsWith('.part'));
    expect(parts).toHaveLength(1);
    fx.hub.log.length = 0;
    const r = await pullModel(opts('test-org/tiny-dinov2-reg'));
    expect(fx.hub.log.filter((l) => l.server === 'cdn').map((l) => l.range)).toEqual([expect.stringMatching(/^bytes=[1-9]\d*-$/)]);
    expect(filesUnder(cache()).filter((p) => p.endsWith('.part'))).toEqual([]);
    expect(loadModel(r.dir).arch.family).toBe('dinov2_with_registers');
  });

  it('starts over when the server answers a Range request with a full 200', async () => {
    fx.hub.faults.truncate.set('onnx/model.onnx', 1);
    fx.hub.faults.ignoreRange = true;
    const r = await pullModel(opts('test-org/tiny-dinov2-reg'));
    expect(loadModel(r.dir).arch.numLayers).toBe(4);
  });

  it('refuses bytes whose hash is not the announced one: error, no files left anywhere', async () => {
    fx.hub.faults.corrupt.add('onnx/model.onnx');
    const err = await failure(pullModel(opts('test-org/tiny-dinov2-reg')));
    expect(err.code).toBe('NETWORK');
    expect(err.message).toMatch(/^sha256 mismatch for onnx\/model\.onnx from test-org\/tiny-dinov2-reg: the hub announced [0-9a-f]{64}, the downloaded bytes hash to [0-9a-f]{64}$/);
    expect(filesUnder(models())).toEqual([]);
    const hash = sha256(readFileSync(join(fixtureModel('tiny-dinov2-reg-op14'), 'model.onnx')));
    expect(filesUnder(cache()).filter((p) => p.includes(hash))).toEqual([]);
    // A regular (non-LFS) file is checked against its git blob sha1.
    fx.hub.faults.corrupt = new Set(['config.json']);
    const cfg = await failure(pullModel(opts('test-org/tiny-dinov2-reg', { cacheDir: join(fx.work(), 'fresh-cache') })));
    expect(cfg.message).toMatch(/^git blob sha1 mismatch for config\.json/);
  });

  it('without blob data in the listing, verifies against the ETag / X-Linked-Etag of a HEAD on /resolve/', async () => {
    fx.hub.faults.noBlobs = true;
    const r = await pullModel(opts('test-org/tiny-dinov2-reg'));
    expect(fx.hub.log.filter((l) => l.method === 'HEAD').map((l) => l.path.replace(/^.*\/resolve\/[0-9a-f]+\//, ''))).toEqual(['config.json', 'preprocessor_config.json', 'onnx/model.onnx']);
    expect(loadModel(r.dir).arch.family).toBe('dinov2_with_registers');
    fx.hub.faults.corrupt.add('onnx/model.onnx');
    const err = await failure(pullModel(opts('test-org/tiny-dinov2-reg', { name: 'other', cacheDir: join(fx.work(), 'cache2') })));
    expect(err.message).toMatch(/sha256 mismatch/);
  });

  it('explains 404s: unknown repo, unknown revision', async () => {
    const repo = await failure(pullModel(opts('test-org/nope')));
    expect(repo.code).toBe('BAD_OPTION');
    expect(repo.message).toMatch(/HTTP 404.*the file list of test-org\/nope@main not found .*\(Repository not found\)/);
    const rev = await failure(pullModel(opts('test-org/tiny-dinov2-reg', { revision: 'v9' })));
    expect(rev.message).toMatch(/^Revision 'v9' not found in test-org\/tiny-dinov2-reg/);
    expect(filesUnder(models())).toEqual([]);
  });

  it('401 without HF_TOKEN names it; with HF_TOKEN it works and the token never reaches the CDN', async () => {
    const err = await failure(pullModel(opts('test-org/private-vit')));
    expect(err.code).toBe('NETWORK');
    expect(err.message).toMatch(/HTTP 401 .*no HF_TOKEN is set/);
    expect(err.hint).toMatch(/set HF_TOKEN/);
    const wrong = await failure(pullModel(opts('test-org/private-vit', { env: { HF_ENDPOINT: fx.hub.url, HF_TOKEN: 'hf_wrong' } })));
    expect(wrong.hint).toMatch(/HF_TOKEN is set but was refused/);
    fx.hub.log.length = 0;
    const r = await pullModel(opts('test-org/private-vit', { env: { HF_ENDPOINT: fx.hub.url, HF_TOKEN: 'hf_test_secret' } }));
    expect(loadModel(r.dir).arch.family).toBe('vit');
    expect(fx.hub.log.filter((l) => l.server === 'hub').every((l) => l.auth === 'Bearer hf_test_secret')).toBe(true);
    const cdn = fx.hub.log.filter((l) => l.server === 'cdn');
    expect(cdn.length).toBeGreaterThan(0);
    expect(cdn.every((l) => l.auth === undefined)).toBe(true);
  });

  it('refuses redirect loops and more than 5 redirects', async () => {
    fx.hub.faults.loop.add('onnx/model.onnx');
    const loop = await failure(pullModel(opts('test-org/tiny-dinov2-reg')));
    expect(loop.message).toMatch(/^Redirect loop while fetching onnx\/model\.onnx of test-org\/tiny-dinov2-reg/);
    fx.hub.faults.loop.clear();
    fx.hub.faults.chain.add('onnx/model.onnx');
    const chain = await failure(pullModel(opts('test-org/tiny-dinov2-reg')));
    expect(chain.message).toMatch(/^Too many redirects \(more than 5\)/);
    expect(fx.hub.log.filter((l) => l.path.startsWith('/chain/'))).toHaveLength(5);
    expect(filesUnder(models())).toEqual([]);
  });

  it('refuses path traversal in a listing, naming the file, before writing anything', async () => {
    const err = await failure(pullModel(opts('test-org/evil')));
    expect(err.code).toBe('BAD_MODEL');
    expect(err.message).toBe(`Refusing the file name "onnx/../../../escape.onnx" from the hub: it contains a '..' component (path traversal)`);
    expect(existsSync(models())).toBe(false);
    expect(filesUnder(cache())).toEqual([]);
    expect(fileGets()).toEqual([]);
  });

  it('refuses a repo without config.json', async () => {
    const err = await failure(pullModel(opts('test-org/no-config')));
    expect(err.code).toBe('BAD_MODEL');
    expect(err.message).toMatch(/no config\.json/);
  });

  it('does not overwrite a folder from another repo unless forced', async () => {
    await pullModel(opts('test-org/tiny-dinov2-reg', { name: 'mine' }));
    const err = await failure(pullModel(opts('test-org/tiny-clip', { name: 'mine' })));
    expect(err.code).toBe('BAD_OUTPUT');
    expect(loadModel(join(models(), 'mine')).arch.family).toBe('dinov2_with_registers');
    const r = await pullModel(opts('test-org/tiny-clip', { name: 'mine', force: true }));
    expect(filesUnder(r.dir)).toEqual(['.massivit-pull.json', 'config.json', 'onnx/vision_model.onnx', 'preprocessor_config.json']);
    expect(readdirSync(models())).toEqual(['mine']);
  });
});

describe('models pull: endpoint and offline', () => {
  async function closedPort(): Promise<string> {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((done) => server.close(() => done()));
    return `http://127.0.0.1:${port}`;
  }

  it('offline: a clear error and no files when nothing is cached', async () => {
    const endpoint = await closedPort();
    const err = await failure(pullModel(opts('test-org/tiny-dinov2-reg', { env: { HF_ENDPOINT: endpoint } })));
    expect(err.code).toBe('NETWORK');
    expect(err.message).toMatch(new RegExp(`^Cannot reach ${endpoint} \\(ECONNREFUSED\\) while fetching the file list of test-org/tiny-dinov2-reg@main; .* is not in the cache`));
    expect(existsSync(models())).toBe(false);
  });

  it('offline: a pull that is in the cache works from it, and says so', async () => {
    await pullModel(opts('test-org/tiny-dinov2-reg'));
    const notices: string[] = [];
    const r = await pullModel(opts('test-org/tiny-dinov2-reg', { name: 'offline-copy', env: { HF_ENDPOINT: await closedPort() }, onNotice: (m) => notices.push(m) }));
    expect(r.offline).toBe(true);
    expect(notices.join('\n')).toMatch(/using the cached file list of test-org\/tiny-dinov2-reg@main/);
    expect(loadModel(r.dir).arch.family).toBe('dinov2_with_registers');
  });
});
