/**
 * `massivit models pull` end to end against a broken or hostile hub (127.0.0.1 only; needs `npm run build`),
 * with credentials in HF_ENDPOINT throughout. Every case: exit 0, 1 or 2 as README documents (never a
 * signal or a stack trace), a bounded run time, the secret in no output, and nothing written outside the
 * cache and --models-dir (HOME points at an empty folder that must stay empty).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLI, ROOT, fixtureModel, tempDir } from '../helpers/env.js';
import { gzipPadding, noFaults, selfSigned, startHub, startStalledServer, type Faults, type HubServer } from '../helpers/hub-server.js';
import { fixtureRepos } from '../helpers/hub-repos.js';

const SECRET = 'cli-s3cret-never-shown';
let hub: HubServer;
let stalled: Awaited<ReturnType<typeof startStalledServer>>;
let closedPort: string;
beforeAll(async () => {
  hub = await startHub(fixtureRepos());
  stalled = await startStalledServer();
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', () => done()));
  closedPort = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise<void>((done) => probe.close(() => done()));
});
afterAll(async () => {
  await hub?.close();
  await stalled?.close();
});
beforeEach(() => {
  Object.assign(hub.faults, noFaults());
});

const withSecret = (url: string) => url.replace(/^(https?:\/\/)/, `$1mirror:${SECRET}@`);

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function massivit(args: string[], cwd: string, endpoint: string, extra: Record<string, string> = {}): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(HF_|HUGGING_FACE_|MASSIVIT_|XDG_)/.test(k)));
  const env = { ...base, HOME: join(cwd, 'home'), HF_ENDPOINT: endpoint, MASSIVIT_CACHE: join(cwd, 'cache'), MASSIVIT_HUB_BACKOFF_MS: '10', ...extra };
  const t0 = Date.now();
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env, timeout: 60_000 }, (err, stdout, stderr) => {
      const e = err as { code?: number; signal?: string } | null;
      done({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** Every file under a folder, relative ([] when absent). */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}

interface Case {
  name: string;
  args?: string[];
  endpoint?: () => string;
  faults?: (f: Faults) => void;
  code: 0 | 1 | 2;
  stderr: RegExp;
}

const ONNX = 'onnx/model.onnx';
const ONNX_SIZE = readFileSync(join(fixtureModel('tiny-dinov2-reg-op14'), 'model.onnx')).length;
const short = ['--timeout', '300', '--retries', '1'];
const CASES: Case[] = [
  { name: 'a good pull', code: 0, stderr: /Pulled: test-org\/tiny-dinov2-reg@main/ },
  { name: 'an unknown repo', args: ['test-org/nope'], code: 2, stderr: /^massivit: HTTP 404 Not Found: the file list of test-org\/nope@main not found at http:\/\/127\.0\.0\.1:\d+ \(Repository not found\)$/m },
  { name: 'a 401', args: ['test-org/private-vit'], code: 1, stderr: /^massivit: HTTP 401 Unauthorized for the file list of test-org\/private-vit@main .*no HF_TOKEN is set$/m },
  { name: 'a server that never answers', endpoint: () => withSecret(stalled.url), args: [...short], code: 1, stderr: /^massivit: http:\/\/127\.0\.0\.1:\d+ timed out while fetching the file list .*: no answer within 300 ms \(--timeout, MASSIVIT_HUB_TIMEOUT_MS\); .* either$/m },
  { name: 'nothing listening', endpoint: () => withSecret(closedPort), code: 1, stderr: /^massivit: Cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/m },
  { name: 'a drip then silence', faults: (f) => f.drip.set(ONNX, 500), args: [...short], code: 1, stderr: /^massivit: Download of onnx\/model\.onnx from test-org\/tiny-dinov2-reg stopped at 1000 of \d+ bytes: no data for 300 ms/m },
  { name: 'corrupt bytes', faults: (f) => f.corrupt.add(ONNX), code: 1, stderr: /^massivit: sha256 mismatch for onnx\/model\.onnx/m },
  { name: 'a redirect loop', faults: (f) => f.loop.add(ONNX), code: 1, stderr: /^massivit: Redirect loop while fetching onnx\/model\.onnx/m },
  { name: 'a body past the listed size', faults: (f) => f.oversize.set(ONNX, { extra: 4 << 20, announce: false }), code: 1, stderr: /the server sent more than the announced \d+ bytes; stopped at \d+ bytes and refused the rest$/m },
  { name: 'a gzip bomb', faults: (f) => f.gzip.set(ONNX, gzipPadding(32 << 20)), code: 1, stderr: /the server sent a 'gzip'-encoded body although massivit asked for the plain bytes/ },
  { name: 'an endpoint that does not parse', endpoint: () => `http://mirror:${SECRET}@127.0.0.1:99999`, code: 2, stderr: /^massivit: Expected an http\(s\) URL for HF_ENDPOINT but received 'http:\/\/\*\*\*@127\.0\.0\.1:99999'$/m },
  { name: 'a hex --timeout', args: ['--timeout', '0x10'], code: 2, stderr: /^massivit: Expected an integer from 1 to 3600000 for --timeout but received '0x10'$/m },
  { name: 'a --models-dir that is a file', args: ['--models-dir', 'not-a-dir'], code: 2, stderr: /^massivit: --models-dir not-a-dir is a file, not a folder: refusing to write there$/m },
];

describe.skipIf(!existsSync(join(ROOT, 'dist', 'model', 'hub', 'http.js')))('massivit models pull against a hostile hub (CLI)', () => {
  for (const c of CASES) {
    it(`${c.name}: exit ${c.code}, one clear line, no secret, nothing outside the cache and models folder`, async () => {
      const cwd = tempDir('pull-hostile-cli');
      mkdirSync(join(cwd, 'home'));
      writeFileSync(join(cwd, 'not-a-dir'), 'a file');
      c.faults?.(hub.faults);
      const args = c.args?.[0]?.includes('/') ? c.args : ['test-org/tiny-dinov2-reg', ...(c.args ?? [])];
      const r = await massivit(['models', 'pull', ...args], cwd, c.endpoint?.() ?? withSecret(hub.url));
      expect(r.signal).toBeNull();
      expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: c.code });
      expect(r.stderr).toMatch(c.stderr);
      expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace
      expect(r.stdout + r.stderr).not.toContain(SECRET);
      expect(r.ms).toBeLessThan(30_000); // bounded: the defaults alone would wait minutes on the stalled cases
      expect(readdirSync(cwd).filter((n) => !['cache', 'models', 'home', 'not-a-dir'].includes(n))).toEqual([]);
      expect(files(join(cwd, 'home'))).toEqual([]);
      if (c.code !== 0) expect(files(join(cwd, 'models'))).toEqual([]);
      // The cache never holds more of the file than the listing announced.
      for (const f of files(join(cwd, 'cache')).filter((p) => p.endsWith('.part'))) expect(statSync(join(cwd, 'cache', f)).size).toBeLessThanOrEqual(ONNX_SIZE);
    });
  }

  it('a drip-stalled pull resumes from its .part on the next run (Range), then succeeds', async () => {
    const cwd = tempDir('pull-hostile-cli');
    hub.faults.drip.set(ONNX, 700);
    const first = await massivit(['models', 'pull', 'test-org/tiny-dinov2-reg', '--timeout', '300', '--retries', '0'], cwd, withSecret(hub.url));
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/hint: The partial file stays in the cache .*\.part\); run the same pull again to resume it/);
    hub.faults.drip.clear();
    hub.log.length = 0;
    const second = await massivit(['models', 'pull', 'test-org/tiny-dinov2-reg'], cwd, withSecret(hub.url));
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/resuming at 700 B/);
    expect(hub.log.filter((l) => l.server === 'cdn' && l.method === 'GET').map((l) => l.range)).toEqual(['bytes=700-']);
    expect(second.stdout + second.stderr).not.toContain(SECRET);
  });
});

// The real hub speaks HTTPS: the same timeouts and resume over TLS (a self-signed certificate made by openssl,
// trusted through NODE_EXTRA_CA_CERTS; skipped without openssl).
const tls = selfSigned(tempDir('hub-tls'));
describe.skipIf(!tls || !existsSync(join(ROOT, 'dist', 'model', 'hub', 'http.js')))('massivit models pull over HTTPS (CLI)', () => {
  let secure: HubServer;
  beforeAll(async () => {
    secure = await startHub(fixtureRepos(), tls);
  });
  afterAll(async () => secure?.close());
  const trust = () => ({ NODE_EXTRA_CA_CERTS: tls!.certPath });

  it('pulls over TLS with Basic auth from HF_ENDPOINT; a TLS handshake that never ends times out', async () => {
    const cwd = tempDir('pull-hostile-cli');
    const ok = await massivit(['models', 'pull', 'test-org/tiny-dinov2-reg'], cwd, withSecret(secure.url), trust());
    expect(ok.stderr).toMatch(/Pulled: test-org\/tiny-dinov2-reg@main/);
    expect(ok.code).toBe(0);
    expect(secure.log.filter((l) => l.server === 'hub').length).toBeGreaterThan(0);
    expect(secure.log.filter((l) => l.server === 'hub').every((l) => l.auth === `Basic ${Buffer.from(`mirror:${SECRET}`).toString('base64')}`)).toBe(true);
    expect(secure.log.filter((l) => l.server === 'cdn').every((l) => l.auth === undefined)).toBe(true);
    const hung = await massivit(['models', 'pull', 'test-org/tiny-dinov2-reg', '--timeout', '300', '--retries', '0'], tempDir('pull-hostile-cli'), withSecret(stalled.url.replace('http:', 'https:')), trust());
    expect(hung.code).toBe(1);
    expect(hung.stderr).toMatch(/^massivit: https:\/\/127\.0\.0\.1:\d+ timed out while fetching the file list .*: no answer within 300 ms/m);
    expect(ok.stdout + ok.stderr + hung.stdout + hung.stderr).not.toContain(SECRET);
  });

  it('a TLS download that stalls is resumed by the next run with Range', async () => {
    const cwd = tempDir('pull-hostile-cli');
    secure.faults.drip.set(ONNX, 900);
    const first = await massivit(['models', 'pull', 'test-org/tiny-dinov2-reg', '--timeout', '300', '--retries', '0'], cwd, secure.url, trust());
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/stopped at 900 of \d+ bytes: no data for 300 ms/);
    secure.faults.drip.clear();
    secure.log.length = 0;
    const second = await massivit(['models', 'pull', 'test-org/tiny-dinov2-reg'], cwd, secure.url, trust());
    expect(second.code).toBe(0);
    expect(secure.log.filter((l) => l.server === 'cdn' && l.method === 'GET').map((l) => l.range)).toEqual(['bytes=900-']);
  });
});
