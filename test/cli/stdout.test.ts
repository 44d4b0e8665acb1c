/** A broken standard output is not a crash: `--json | head` exits 0 quietly, `> /dev/full` exits 2 in one line. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, fixtureModel, IMAGES, ROOT, tempDir } from '../helpers/env.js';
import { cliEnv } from '../helpers/cli.js';

const MODEL = fixtureModel('tiny-vit-op14');
const sh = (script: string) => spawnSync('bash', ['-c', `set -o pipefail; ${script}`], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: cliEnv() });

describe('a broken standard output', () => {
  it('a reader that stops early (--json | head -c 1): exit 0, no stack trace, the scan complete', () => {
    const out = join(tempDir('stdout'), 'scan');
    const r = sh(`node ${CLI} scan -m ${MODEL} -i ${IMAGES} -o ${out} --limit 3 --no-report --json | head -c 1 >/dev/null; echo "rc=\${PIPESTATUS[0]}" >&2`);
    expect(r.stderr).toContain('rc=0');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(out, 'scan.json'))).toBe(true);
  });

  it('a full device (> /dev/full): exit 2 and one line saying so', (ctx) => {
    if (!existsSync('/dev/full')) return ctx.skip();
    const out = join(tempDir('stdout'), 'scan');
    const r = sh(`node ${CLI} scan -m ${MODEL} -i ${IMAGES} -o ${out} --limit 3 --no-report --json > /dev/full`);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^massivit: cannot write standard output: the disk is full \(ENOSPC\)/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
