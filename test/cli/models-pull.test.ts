/**
 * The CLI end to end: `node bin/massivit.js models pull|catalog|inspect|list` against the local hub
 * look-alike (needs `npm run build`). Exit codes: 0 ok, 2 bad argument / unsafe repo, 1 network.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, tempDir } from '../helpers/env.js';
import { startHub, type HubServer } from '../helpers/hub-server.js';
import { fixtureRepos } from '../helpers/hub-repos.js';

let hub: HubServer;
beforeAll(async () => {
  hub = await startHub(fixtureRepos());
});
afterAll(async () => hub?.close());

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Async on purpose: the hub runs in this process, so a spawnSync would block it. */
function massivit(args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(HF_|HUGGING_FACE_|MASSIVIT_)/.test(k)));
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env: { ...base, HF_ENDPOINT: hub.url, MASSIVIT_CACHE: join(cwd, 'cache'), ...env } }, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe.skipIf(!existsSync(join(ROOT, 'dist', 'cli', 'commands', 'models-pull.js')))('massivit models pull (CLI)', () => {
  it('pulls into ./models, then list and inspect show it with its source', async () => {
    const cwd = tempDir('pull-cli');
    const pull = await massivit(['models', 'pull', 'test-org/tiny-dinov2-reg'], cwd);
    expect(pull.stderr).toMatch(/Pulled: test-org\/tiny-dinov2-reg@main \(commit [0-9a-f]{7}, fp32\)/);
    expect(pull.stderr).toMatch(/onnx\/model\.onnx .* downloaded/);
    expect(pull.stderr).toMatch(/loads as dinov2_with_registers: 4 blocks, hidden 32, 30 tokens \(4 registers\), fp32/);
    expect(pull.code).toBe(0);
    expect(existsSync(join(cwd, 'models', 'tiny-dinov2-reg', 'onnx', 'model.onnx'))).toBe(true);

    const again = await massivit(['models', 'pull', 'test-org/tiny-dinov2-reg', '--json'], cwd);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ upToDate: true, name: 'tiny-dinov2-reg' });

    const list = await massivit(['models', 'list'], cwd);
    expect(list.stdout).toMatch(/^tiny-dinov2-reg\s+dinov2_with_registers\s+4 layers\s+fp32\s+\S+\s+\(test-org\/tiny-dinov2-reg\)$/m);

    const inspect = await massivit(['models', 'inspect', 'tiny-dinov2-reg'], cwd);
    expect(inspect.code).toBe(0);
    for (const line of [
      /family\s+dinov2_with_registers/,
      /layers\s+4 blocks, hidden 32, 2 heads, patch 8/,
      /tokens\s+30 = CLS@0 \+ 4 registers @1,2,3,4 \+ 5x5 patches from 5/,
      /graph\s+opset 14, fp32/,
      /taps\s+\d+ found; every block covered: yes/,
      /source\s+test-org\/tiny-dinov2-reg@[0-9a-f]{7} \(main, fp32\) from http:\/\/127\.0\.0\.1:\d+/,
    ]) expect(inspect.stdout).toMatch(line);
  });

  it('catalogue names work and `models catalog` lists them', async () => {
    const cwd = tempDir('pull-cli');
    const cat = await massivit(['models', 'catalog'], cwd);
    expect(cat.code).toBe(0);
    expect(cat.stdout).toMatch(/^dinov2-small-reg\s+onnx-community\/dinov2-with-registers-small\s+dinov2_with_registers\s+261 tokens @224: \[CLS, reg x4, 256 patches \(16x16\)\]$/m);
    const pull = await massivit(['models', 'pull', 'dinov2-small-reg', '--models-dir', 'elsewhere'], cwd);
    expect(pull.code).toBe(0);
    expect(existsSync(join(cwd, 'elsewhere', 'dinov2-small-reg', 'config.json'))).toBe(true);
  });

  it('prints the quantized warning loudly', async () => {
    const cwd = tempDir('pull-cli');
    const r = await massivit(['models', 'pull', 'test-org/tiny-dinov2-reg', '--variant', 'quantized'], cwd);
    expect(r.stderr).toMatch(/!{78}\nmassivit: WARNING: 'quantized' is a quantized export[^\n]*activation magnitudes[^\n]*\n!{78}/);
    // The stand-in bytes are not a real graph: the pull says it will not scan instead of failing later.
    expect(r.stderr).toMatch(/warning: the pulled files do not load as a scannable ViT/);
    expect(r.code).toBe(0);
  });

  it('exit 2 with a clear message for a bad name, an unknown variant and a hostile listing', async () => {
    const cwd = tempDir('pull-cli');
    const name = await massivit(['models', 'pull', 'not-in-catalogue'], cwd);
    expect(name.code).toBe(2);
    expect(name.stderr).toMatch(/massivit: Expected a Hugging Face repo id 'owner\/name' or a catalogue name .* 'not-in-catalogue'\n {2}hint: Catalogue names: dinov2-small/);
    const variant = await massivit(['models', 'pull', 'test-org/tiny-clip', '--variant', 'fp16'], cwd);
    expect(variant.code).toBe(2);
    expect(variant.stderr).toMatch(/Variant 'fp16' is not in test-org\/tiny-clip@[0-9a-f]{7}: available fp32 \(onnx\/vision_model\.onnx\), quantized \(onnx\/vision_model_quantized\.onnx\)/);
    const evil = await massivit(['models', 'pull', 'test-org/evil'], cwd);
    expect(evil.code).toBe(2);
    expect(evil.stderr).toMatch(/Refusing the file name "onnx\/\.\.\/\.\.\/\.\.\/escape\.onnx" from the hub/);
    expect(existsSync(join(cwd, 'models'))).toBe(false);
  });

  it('exit 1 for 401 without HF_TOKEN (named in the message), 0 with it', async () => {
    const cwd = tempDir('pull-cli');
    const denied = await massivit(['models', 'pull', 'test-org/private-vit'], cwd);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/HTTP 401 .*no HF_TOKEN is set\n {2}hint: .*set HF_TOKEN/);
    expect(existsSync(join(cwd, 'models'))).toBe(false);
    const ok = await massivit(['models', 'pull', 'test-org/private-vit'], cwd, { HF_TOKEN: 'hf_test_secret' });
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/loads as vit/);
  });

  it('exit 1 and no files when the hub is unreachable', async () => {
    const cwd = tempDir('pull-cli');
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((done) => probe.listen(0, '127.0.0.1', () => done()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((done) => probe.close(() => done()));
    const r = await massivit(['models', 'pull', 'test-org/tiny-dinov2-reg'], cwd, { HF_ENDPOINT: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^massivit: Cannot reach http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\) while fetching the file list of test-org/tiny-dinov2-reg@main`, 'm'));
    expect(r.stderr).toMatch(/hint: Check the network connection; HF_ENDPOINT/);
    expect(existsSync(join(cwd, 'models'))).toBe(false);
  });
});
