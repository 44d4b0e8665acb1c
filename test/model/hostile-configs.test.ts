/**
 * Hostile configs and side files, built at test time from the small fixtures: each is refused by `scan` and
 * `models inspect` with exit 2 and one line naming the bad thing, quickly (a FIFO or /dev/zero must never be
 * read), before any image is read and without creating --out.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, tempDir } from '../helpers/env.js';
import { cliEnv, runMassivit } from '../helpers/cli.js';
import { copyFixture, editConfig, editGraph, externalWeights } from '../helpers/broken-models.js';

/** The built CLI, asynchronously, so the cases run side by side (each is mostly process start-up). */
function massivit(...args: string[]): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: cliEnv() }, (err, _stdout, stderr) => {
      const e = err as (Error & { code?: number | string; signal?: string }) | null;
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stderr });
    });
  });
}

const editJson = (file: string, content: string) => (dir: string) => (writeFileSync(join(dir, file), content), dir);
const preprocessor = (edit: (p: Record<string, unknown>) => void) => (dir: string) => {
  const path = join(dir, 'preprocessor_config.json');
  const p = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  edit(p);
  writeFileSync(path, JSON.stringify(p));
  return dir;
};
const fifo = (file: string) => (dir: string) => {
  rmSync(join(dir, file));
  const r = spawnSync('mkfifo', [join(dir, file)]);
  if (r.status !== 0) throw new Error('mkfifo failed');
  return dir;
};
const linkTo = (file: string, target: string) => (dir: string) => (rmSync(join(dir, file), { force: true }), symlinkSync(target, join(dir, file)), dir);
const external = (location: string, entries: Record<string, string> = {}) => (dir: string) =>
  editGraph(dir, (m) => {
    externalWeights(m, location);
    const t = m.graph!.initializer!.find((i) => i.dataLocation === 1)!;
    for (const e of t.externalData!) if (entries[e.key!] !== undefined) e.value = entries[e.key!];
  });

interface Case {
  name: string;
  fixture?: string;
  build: (dir: string) => string;
  message: RegExp;
}

const CASES: Case[] = [
  { name: 'config.json holding null', build: editJson('config.json', 'null'), message: /config\.json: expected a JSON object but found null/ },
  { name: "model_type '__proto__'", build: (d) => editConfig(d, (c) => (c.model_type = '__proto__')), message: /model_type '__proto__' is not a supported ViT family/ },
  { name: "model_type 'toString'", build: (d) => editConfig(d, (c) => (c.model_type = 'toString')), message: /model_type 'toString' is not a supported ViT family/ },
  {
    name: 'num_register_tokens 1e10',
    fixture: 'tiny-dinov2-reg-op14',
    build: (d) => editConfig(d, (c) => (c.num_register_tokens = 1e10)),
    message: /expected an integer from 0 to 1024 for num_register_tokens but found 10000000000/,
  },
  { name: 'num_attention_heads that disagrees with the graph', build: (d) => editConfig(d, (c) => (c.num_attention_heads = 4)), message: /config\.json says num_attention_heads 4 but the graph's attention splits into 2 heads/ },
  { name: 'hidden_size not divisible by the heads', build: (d) => editConfig(d, (c) => (c.num_attention_heads = 3)), message: /hidden_size 32 is not divisible by num_attention_heads 3/ },
  { name: 'image_std 0', build: preprocessor((p) => (p.image_std = [0, 0, 0])), message: /expected 3 finite numbers of magnitude at least 1e-6 .* for image_std but found \[0,0,0\]/ },
  { name: 'rescale_factor 1e300', build: preprocessor((p) => (p.rescale_factor = 1e300)), message: /expected rescale_factor in \(0, 1\] .* but found 1e\+300/ },
  { name: 'shortest_edge 0', build: preprocessor((p) => ((p.size = { shortest_edge: 0 }), (p.do_center_crop = true), (p.crop_size = { height: 32, width: 32 }))), message: /cannot read size \{"shortest_edge":0\}/ },
  { name: 'config.json is a FIFO', build: fifo('config.json'), message: /config\.json is a named pipe \(FIFO\), not a regular file/ },
  { name: 'preprocessor_config.json links to /dev/zero', build: linkTo('preprocessor_config.json', '/dev/zero'), message: /preprocessor_config\.json is a character device, not a regular file/ },
  { name: 'external data with an empty location', build: external(''), message: /names an empty external weights location \(''\)/ },
  { name: "external data location '.'", build: external('.'), message: /names an empty external weights location \('\.'\)/ },
  { name: 'external data location that is a folder', build: (d) => (mkdirSync(join(d, 'weights')), external('weights')(d)), message: /external weights file 'weights' that is not a regular file/ },
  { name: 'external data naming the graph itself', build: external('model.onnx'), message: /names itself as its external weights file \('model\.onnx'\)/ },
  { name: 'external data linking to /dev/zero', build: (d) => (symlinkSync('/dev/zero', join(d, 'zero.bin')), external('zero.bin')(d)), message: /links to \/dev\/zero\): refused/ },
  {
    name: 'external data linking outside the folder',
    build: (d) => (writeFileSync(join(d, '..', 'outside.bin'), Buffer.alloc(1 << 16)), symlinkSync(join(d, '..', 'outside.bin'), join(d, 'w.bin')), external('w.bin')(d)),
    message: /names an external weights file outside its folder \('w\.bin' links to .*outside\.bin\): refused/,
  },
  { name: 'external data with a negative offset', build: (d) => (writeFileSync(join(d, 'w.bin'), Buffer.alloc(1 << 16)), external('w.bin', { offset: '-8' })(d)), message: /have the offset -8: expected a non-negative integer/ },
  { name: 'external data with a negative length', build: (d) => (writeFileSync(join(d, 'w.bin'), Buffer.alloc(1 << 16)), external('w.bin', { length: '-1' })(d)), message: /have the length -1: expected a non-negative integer/ },
  {
    name: 'external data running past a sparse 3 GB file',
    build: (d) => {
      const r = spawnSync('truncate', ['-s', '3G', join(d, 'sparse.bin')]);
      if (r.status !== 0) throw new Error('truncate failed');
      return external('sparse.bin', { offset: String(3 * 2 ** 30 - 16) })(d);
    },
    message: /run past the end of 'sparse\.bin'/,
  },
];

describe('hostile configs and external-data entries', () => {
  it.concurrent.each(CASES)('$name', async ({ fixture, build, message }) => {
    const tmp = tempDir('hostile-config');
    const model = build(copyFixture(fixture ?? 'tiny-vit-op14', join(tmp, 'model')));
    const images = join(tmp, 'images');
    mkdirSync(images);
    const out = join(tmp, 'out');
    const commands = [['scan', '--model', model, '--images', images, '--out', out], ['models', 'inspect', model]];
    const started = Date.now();
    const results = await Promise.all(commands.map((args) => massivit(...args)));
    for (const [i, r] of results.entries()) {
      const args = commands[i];
      expect(r.signal, `${args[0]} hung`).toBeNull();
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('  hint:'))).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.code).toBe(2);
    }
    expect(Date.now() - started).toBeLessThan(60_000); // a bound on hanging, not a speed target
    expect(existsSync(out)).toBe(false);
  });

  it('a dangling link in the models folder does not break `models list`', () => {
    const tmp = tempDir('hostile-list');
    copyFixture('tiny-vit-op14', join(tmp, 'good'));
    symlinkSync(join(tmp, 'gone'), join(tmp, 'dangling'));
    const r = runMassivit(['models', 'list'], { env: { MASSIVIT_MODELS_DIR: tmp } });
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('good');
  });
});
