/**
 * `pullModel` against a hostile or broken network, all on 127.0.0.1: a server that never answers, one that
 * drips bytes then stalls, bodies longer than announced, gzip bombs, credentials in HF_ENDPOINT. Each case
 * must end (short test-set timeouts), with a one-line error, a cache that never held more than the
 * announced bytes, and a .part the next pull can resume.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MassivitError } from '../../src/contracts/errors.js';
import { hubConfig } from '../../src/model/hub/client.js';
import { hubLimits } from '../../src/model/hub/http.js';
import { pullModel, type PullOptions } from '../../src/model/hub/pull.js';
import { fixtureModel } from '../helpers/env.js';
import { gzipPadding, sha256, startStalledServer, startUnconnectable } from '../helpers/hub-server.js';
import { filesUnder, useFixtureHub } from '../helpers/hub-fixture.js';

const fx = useFixtureHub('pull-hostile');
const { models, cache } = fx;
const REPO = 'test-org/tiny-dinov2-reg';
const ONNX = readFileSync(join(fixtureModel('tiny-dinov2-reg-op14'), 'model.onnx'));
const BLOB = sha256(ONNX);
/** Short timeouts and back-off so each failure takes well under a second. */
function opts(extra: Partial<PullOptions> = {}): PullOptions {
  return { repo: REPO, modelsDir: models(), cacheDir: cache(), env: { HF_ENDPOINT: fx.hub.url }, limits: { idleTimeoutMs: 300, connectTimeoutMs: 1000, backoffMs: 10, retries: 1 }, ...extra };
}
const onnxPart = () => join(cache(), 'models--test-org--tiny-dinov2-reg', 'blobs', `${BLOB}.part`);
const partSize = () => (existsSync(onnxPart()) ? statSync(onnxPart()).size : 0);
async function failure(p: Promise<unknown>): Promise<{ err: MassivitError; ms: number }> {
  const t0 = Date.now();
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(MassivitError);
  expect((err as Error).message).not.toMatch(/\n/);
  return { err: err as MassivitError, ms: Date.now() - t0 };
}
const cdnGets = () => fx.hub.log.filter((l) => l.server === 'cdn' && l.method === 'GET');

describe('models pull: timeouts', () => {
  it('a server that accepts and never answers: fails after its --timeout, retried once, naming the timeout', async () => {
    const stalled = await startStalledServer();
    try {
      const { err, ms } = await failure(pullModel(opts({ env: { HF_ENDPOINT: stalled.url } })));
      expect(err.code).toBe('NETWORK');
      expect(err.message).toMatch(
        /^http:\/\/127\.0\.0\.1:\d+ timed out while fetching the file list of test-org\/tiny-dinov2-reg@main: no answer within 300 ms \(--timeout, MASSIVIT_HUB_TIMEOUT_MS\); test-org\/tiny-dinov2-reg@main is not in the cache .* either$/,
      );
      expect(err.hint).toMatch(/raise --timeout/);
      expect(stalled.connections()).toBe(2); // the first try and one retry
      expect(ms).toBeGreaterThanOrEqual(2 * 300);
      expect(ms).toBeLessThan(10_000); // bounded (the default timeouts would take a minute)
      expect(existsSync(models())).toBe(false);
    } finally {
      await stalled.close();
    }
  });

  it('a connection that never completes: fails after the connect timeout, naming it', async (ctx) => {
    const port = await startUnconnectable();
    if (!port) return ctx.skip(); // needs python3 for a listener that does not accept
    try {
      const { err, ms } = await failure(pullModel(opts({ env: { HF_ENDPOINT: port.url }, limits: { connectTimeoutMs: 300, backoffMs: 10, retries: 1 } })));
      expect(err.code).toBe('NETWORK');
      expect(err.message).toMatch(/^http:\/\/127\.0\.0\.1:\d+ timed out while fetching the file list of test-org\/tiny-dinov2-reg@main: no connection within 300 ms \(--connect-timeout, MASSIVIT_HUB_CONNECT_TIMEOUT_MS\); .* either$/);
      expect(ms).toBeGreaterThanOrEqual(2 * 300);
      expect(ms).toBeLessThan(10_000);
    } finally {
      await port.close();
    }
  });

  it('the timeout comes from MASSIVIT_HUB_TIMEOUT_MS when no option sets it', async () => {
    const stalled = await startStalledServer();
    try {
      const env = { HF_ENDPOINT: stalled.url, MASSIVIT_HUB_TIMEOUT_MS: '200', MASSIVIT_HUB_RETRIES: '0' };
      const { err } = await failure(pullModel({ repo: REPO, modelsDir: models(), cacheDir: cache(), env }));
      expect(err.message).toMatch(/no answer within 200 ms/);
      expect(stalled.connections()).toBe(1);
    } finally {
      await stalled.close();
    }
  });

  it('a download that drips then stalls: idle timeout, .part kept, and the next pull resumes it with Range', async () => {
    fx.hub.faults.drip.set('onnx/model.onnx', 1000);
    const notices: string[] = [];
    const { err } = await failure(pullModel(opts({ onNotice: (m) => notices.push(m) })));
    expect(err.code).toBe('NETWORK');
    // Two attempts of 1000 bytes each: the retry resumed at 1000.
    expect(err.message).toBe(`Download of onnx/model.onnx from ${REPO} stopped at 2000 of ${ONNX.length} bytes: no data for 300 ms (--timeout, MASSIVIT_HUB_TIMEOUT_MS)`);
    expect(notices).toContain('onnx/model.onnx: no data for 300 ms (--timeout, MASSIVIT_HUB_TIMEOUT_MS); resuming at byte 1000 (attempt 2 of 2)');
    expect(cdnGets().map((l) => l.range)).toEqual([undefined, 'bytes=1000-']);
    expect(partSize()).toBe(2000);
    expect(filesUnder(models())).toEqual([]);

    fx.hub.faults.drip.clear();
    fx.hub.log.length = 0;
    const r = await pullModel(opts());
    expect(cdnGets().map((l) => l.range)).toEqual(['bytes=2000-']);
    expect(sha256(readFileSync(join(r.dir, 'onnx/model.onnx')))).toBe(BLOB);
    expect(existsSync(onnxPart())).toBe(false);
  });

  it('an answer whose headers drip a byte at a time: fails at the timeout although the line is never silent', async () => {
    const dripping = await startStalledServer('dripHeaders');
    try {
      const { err, ms } = await failure(pullModel(opts({ env: { HF_ENDPOINT: dripping.url } })));
      expect(err.message).toMatch(/^http:\/\/127\.0\.0\.1:\d+ timed out while fetching the file list of test-org\/tiny-dinov2-reg@main: no answer within 300 ms/);
      expect(dripping.connections()).toBe(2);
      expect(ms).toBeLessThan(10_000);
    } finally {
      await dripping.close();
    }
  });

  it('an answer that is not HTTP at all: one line saying so, not retried', async () => {
    const garbage = await startStalledServer('garbage');
    try {
      const { err } = await failure(pullModel(opts({ env: { HF_ENDPOINT: garbage.url } })));
      expect(err.code).toBe('NETWORK');
      expect(err.message).toMatch(/^http:\/\/127\.0\.0\.1:\d+ did not answer in HTTP \(HPE_[A-Z_]+\) while fetching the file list of test-org\/tiny-dinov2-reg@main; .* not in the cache/);
      expect(garbage.connections()).toBe(1);
    } finally {
      await garbage.close();
    }
  });

  it('a listing that stalls half-way: the idle timeout, as a one-line network error', async () => {
    fx.hub.faults.dripListing = 20;
    const { err } = await failure(pullModel(opts()));
    expect(err.code).toBe('NETWORK');
    expect(err.message).toMatch(/^http:\/\/127\.0\.0\.1:\d+ timed out while fetching the file list of test-org\/tiny-dinov2-reg@main: no data for 300 ms \(--timeout, MASSIVIT_HUB_TIMEOUT_MS\); .* not in the cache/);
  });

  it('a body that trickles below --min-speed is a stall too: resumed, then given up with the .part kept', async () => {
    fx.hub.faults.trickle.set('onnx/model.onnx', 20); // 50 bytes/s, never silent for 300 ms
    const notices: string[] = [];
    const { err } = await failure(pullModel(opts({ limits: { idleTimeoutMs: 300, minSpeed: 1000, retries: 1, backoffMs: 10 }, onNotice: (m) => notices.push(m) })));
    expect(err.message).toMatch(/^Download of onnx\/model\.onnx from test-org\/tiny-dinov2-reg stopped at \d+ of \d+ bytes: slower than 1000 bytes\/s for 300 ms \(--min-speed, MASSIVIT_HUB_MIN_SPEED\)$/);
    expect(notices.filter((n) => /resuming at byte [1-9]/.test(n))).toHaveLength(1);
    expect(partSize()).toBeGreaterThan(0);
    expect(cdnGets().map((l) => l.range)).toEqual([undefined, expect.stringMatching(/^bytes=[1-9]\d*-$/)]);
  });

  it('a 503 is retried after the back-off and the pull goes on', async () => {
    fx.hub.faults.unavailable.set('config.json', 1);
    const notices: string[] = [];
    const r = await pullModel(opts({ onNotice: (m) => notices.push(m) }));
    expect(notices).toContainEqual(expect.stringMatching(/^config\.json of test-org\/tiny-dinov2-reg: HTTP 503 from http:\/\/127\.0\.0\.1:\d+; retrying in 10 ms \(attempt 2 of 2\)$/));
    expect(r.files.map((f) => f.local)).toContain('config.json');
  });
});

describe('models pull: bodies larger than announced', () => {
  it('more bytes than the listing says (no Content-Length): stops at the listed size, and the kept bytes verify later', async () => {
    fx.hub.faults.oversize.set('onnx/model.onnx', { extra: 8 << 20, announce: false });
    const { err } = await failure(pullModel(opts()));
    expect(err.message).toBe(`onnx/model.onnx of ${REPO}: the server sent more than the announced ${ONNX.length} bytes; stopped at ${ONNX.length} bytes and refused the rest`);
    expect(partSize()).toBe(ONNX.length); // 8 MiB offered, not one byte past the listing written
    expect(filesUnder(models())).toEqual([]);
    // The bytes that fit are the file's: the next pull verifies them without downloading anything.
    fx.hub.faults.oversize.clear();
    fx.hub.log.length = 0;
    const r = await pullModel(opts());
    expect(cdnGets()).toEqual([]);
    expect(sha256(readFileSync(join(r.dir, 'onnx/model.onnx')))).toBe(BLOB);
  });

  it('a Content-Length above the listed size: refused before a byte is written', async () => {
    fx.hub.faults.oversize.set('onnx/model.onnx', { extra: 1 << 20, announce: true });
    const { err } = await failure(pullModel(opts()));
    expect(err.message).toBe(`onnx/model.onnx of ${REPO}: the server announced ${ONNX.length + (1 << 20)} bytes but the hub's listing says ${ONNX.length}; refusing it before writing anything`);
    expect(partSize()).toBe(0);
  });

  it('bytes past Content-Length on the wire are never read into the file', async () => {
    fx.hub.faults.pastLength.add('onnx/model.onnx');
    const r = await pullModel(opts());
    expect(sha256(readFileSync(join(r.dir, 'onnx/model.onnx')))).toBe(BLOB);
    expect(statSync(join(cache(), 'models--test-org--tiny-dinov2-reg', 'blobs', BLOB)).size).toBe(ONNX.length);
  });

  it('a gzip-encoded body (a bomb: the file plus 64 MiB of zeros) is refused, not inflated', async () => {
    fx.hub.faults.gzip.set('onnx/model.onnx', gzipPadding(64 << 20));
    const { err } = await failure(pullModel(opts()));
    expect(err.message).toBe(`onnx/model.onnx of ${REPO}: the server sent a 'gzip'-encoded body although massivit asked for the plain bytes (Accept-Encoding: identity); refusing it`);
    expect(partSize()).toBe(0);
    expect(filesUnder(models())).toEqual([]);
  });

  it('a gzip-encoded listing that inflates past 64 MiB is refused at the cap', async () => {
    fx.hub.faults.gzipListing = gzipPadding(80 << 20, 0x20);
    const { err } = await failure(pullModel(opts()));
    expect(err.message).toMatch(/^The hub's gzip answer for the file list of test-org\/tiny-dinov2-reg@main does not inflate within 67108864 bytes/);
    expect(filesUnder(cache())).toEqual([]);
  });

  it('with no size announced anywhere, --max-size caps the body, and the unverifiable bytes are deleted', async () => {
    Object.assign(fx.hub.faults, { noBlobs: true, unsized: true });
    fx.hub.faults.oversize.set('onnx/model.onnx', { extra: 8 << 20, announce: false }); // chunked: no Content-Length
    const { err } = await failure(pullModel(opts({ limits: { maxBytes: '100K', backoffMs: 10 } })));
    expect(err.message).toBe(`onnx/model.onnx of ${REPO}: the server sent more than the 102400 bytes allowed (--max-size); stopped at 102400 bytes and refused the rest`);
    expect(partSize()).toBe(0);
    expect(filesUnder(models())).toEqual([]);
  });

  it('a file larger than --max-size is refused before downloading', async () => {
    const { err } = await failure(pullModel(opts({ limits: { maxBytes: String(ONNX.length - 1), backoffMs: 10 } })));
    expect(err.message).toBe(`onnx/model.onnx of ${REPO} is ${ONNX.length} bytes, more than the ${ONNX.length - 1} allowed`);
    expect(err.hint).toMatch(/--max-size \(or MASSIVIT_HUB_MAX_BYTES\)/);
    expect(cdnGets()).toEqual([]);
  });
});

describe('models pull: limits and credentials', () => {
  it('limit values are decimal integers in range; a bad one is a BAD_OPTION naming its flag or variable', () => {
    expect(hubLimits({ MASSIVIT_HUB_TIMEOUT_MS: '1500', MASSIVIT_HUB_MAX_BYTES: '2G' }, { retries: '0' })).toMatchObject({ idleTimeoutMs: 1500, maxBytes: 2 * 1024 ** 3, retries: 0 });
    expect(hubLimits({ MASSIVIT_HUB_TIMEOUT_MS: '1500' }, { idleTimeoutMs: '20' }).idleTimeoutMs).toBe(20);
    for (const [env, flags, message] of [
      [{}, { idleTimeoutMs: '0x10' }, /^Expected an integer from 1 to 3600000 for --timeout but received '0x10'$/],
      [{}, { idleTimeoutMs: '0' }, /for --timeout but received '0'$/],
      [{}, { retries: '21' }, /^Expected an integer from 0 to 20 for --retries/],
      [{ MASSIVIT_HUB_CONNECT_TIMEOUT_MS: '1e3' }, {}, /for MASSIVIT_HUB_CONNECT_TIMEOUT_MS but received '1e3'$/],
      [{}, { maxBytes: '-1' }, /^Expected a size in bytes from 1 \(K, M, G, T allowed\) for --max-size/],
    ] as const) {
      let err: unknown;
      try {
        hubLimits(env, flags);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(MassivitError);
      expect((err as MassivitError).code).toBe('BAD_OPTION');
      expect((err as Error).message).toMatch(message);
    }
  });

  it('credentials in HF_ENDPOINT go as Basic auth to the hub only, and into no URL, manifest or cache file', async () => {
    const secret = 'pa55-w0rd-do-not-print';
    const endpoint = fx.hub.url.replace('http://', `http://mirror-user:${secret}@`);
    expect(hubConfig({ HF_ENDPOINT: endpoint })).toEqual({ endpoint: fx.hub.url, basic: `mirror-user:${secret}` });
    expect(hubConfig({ HF_ENDPOINT: 'https://a%20b:p%zz@mirror.example/' })).toEqual({ endpoint: 'https://mirror.example', basic: 'a b:p%zz' });
    const r = await pullModel(opts({ env: { HF_ENDPOINT: endpoint } }));
    const basic = `Basic ${Buffer.from(`mirror-user:${secret}`).toString('base64')}`;
    expect(fx.hub.log.filter((l) => l.server === 'hub').every((l) => l.auth === basic)).toBe(true);
    expect(cdnGets().length).toBeGreaterThan(0);
    expect(fx.hub.log.filter((l) => l.server === 'cdn').every((l) => l.auth === undefined)).toBe(true);
    for (const root of [models(), cache()]) for (const f of filesUnder(root)) expect(readFileSync(join(root, f), 'latin1')).not.toContain(secret);
    expect(JSON.parse(readFileSync(join(r.dir, '.massivit-pull.json'), 'utf8')).endpoint).toBe(fx.hub.url);
    // An unparsable endpoint is echoed with its credentials hidden.
    let err: unknown;
    try {
      hubConfig({ HF_ENDPOINT: `http://mirror-user:${secret}@127.0.0.1:99999` });
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toBe("Expected an http(s) URL for HF_ENDPOINT but received 'http://***@127.0.0.1:99999'");
  });
});
