/**
 * Nothing leaves the machine unasked: ONNX Runtime's telemetry (a device id and an event database under
 * ~/.cache/Microsoft/DeveloperTools/.onnxruntime, uploaded to mobile.events.data.microsoft.com) stays off in
 * scan, report and merge. The control run with ORT_DISABLE_TELEMETRY=0 shows the check can fail: there ORT
 * does create its database.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, fixtureModel, IMAGES, ROOT, tempDir } from '../helpers/env.js';
import { cliEnv } from '../helpers/cli.js';

const MODEL = fixtureModel('tiny-vit-op14');

/** ONNX Runtime also stays quiet on CI machines (it reads CI, GITHUB_ACTIONS, TF_BUILD …): those are removed, so the runs test massivit's switch. */
const CI_VARIABLES = ['CI', 'CONTINUOUS_INTEGRATION', 'GITHUB_ACTIONS', 'TF_BUILD', 'BUILD_ID', 'BUILD_NUMBER', 'JENKINS_URL', 'GITLAB_CI', 'TRAVIS', 'CIRCLECI', 'BUILDKITE', 'TEAMCITY_VERSION', 'RUN_ID'];

function massivit(home: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const base: NodeJS.ProcessEnv = { ...cliEnv(), HOME: home, XDG_CACHE_HOME: '' };
  delete base.ORT_DISABLE_TELEMETRY;
  for (const v of CI_VARIABLES) delete base[v];
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, env: { ...base, ...env } });
  return { code: r.status, stderr: r.stderr };
}

const telemetryDir = (home: string) => join(home, '.cache', 'Microsoft', 'DeveloperTools', '.onnxruntime');

describe('ONNX Runtime telemetry', () => {
  const work = tempDir('telemetry');
  const images = join(work, 'images');
  mkdirSync(images);
  for (const f of ['chelsea.png', 'camera.png']) copyFileSync(join(IMAGES, f), join(images, f));

  it('is off in scan, report and merge (nothing under ~/.cache/Microsoft)', () => {
    const home = join(work, 'home-off');
    mkdirSync(home);
    const out = join(work, 'scan-off');
    expect(massivit(home, ['scan', '--model', MODEL, '--images', images, '--out', out, '--threads', '1']).code).toBe(0);
    expect(massivit(home, ['report', out]).code).toBe(0);
    for (const i of [0, 1]) expect(massivit(home, ['scan', '--model', MODEL, '--images', images, '--out', join(work, `shard-${i}`), '--shard', `${i}/2`, '--no-report']).code).toBe(0);
    expect(massivit(home, ['merge', join(work, 'shard-0'), join(work, 'shard-1'), '--out', join(work, 'merged')]).code).toBe(0);
    expect(existsSync(join(home, '.cache', 'Microsoft'))).toBe(false);
  });

  it('control: with ORT_DISABLE_TELEMETRY=0 ONNX Runtime does write its database', () => {
    const home = join(work, 'home-on');
    mkdirSync(home);
    const r = massivit(home, ['scan', '--model', MODEL, '--images', images, '--out', join(work, 'scan-on'), '--no-report'], { ORT_DISABLE_TELEMETRY: '0' });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(telemetryDir(home))).toBe(true);
  });
});
