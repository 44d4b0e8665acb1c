/**
 * Running the CLI as an unprivileged user when the tests run as root (as CI does): root ignores
 * chmod 000, so "an unreadable file" is only real for a process that is not root. When dropping to
 * `nobody` is impossible (no CAP_SETUID), tests say so and expect root's behaviour instead.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, chownSync } from 'node:fs';
import { CLI, ROOT } from './env.js';
import { cliEnv } from './cli.js';

const NOBODY = 65534;

export interface Runner {
  /** uid/gid the CLI runs as, or undefined for the test's own user. */
  as?: { uid: number; gid: number };
  /** True when file permissions bind the scanning process (not root). */
  enforcesPermissions: boolean;
  why: string;
}

export function pickRunner(): Runner {
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) return { enforcesPermissions: true, why: 'tests run as a normal user' };
  const probe = spawnSync(process.execPath, ['-e', `require('fs').readFileSync(${JSON.stringify(CLI)})`], { uid: NOBODY, gid: NOBODY, cwd: '/' });
  if (probe.status === 0) return { as: { uid: NOBODY, gid: NOBODY }, enforcesPermissions: true, why: 'root: the CLI runs as nobody (65534) so chmod 000 binds' };
  const reason = probe.error ? probe.error.message : `exit ${probe.status}: ${String(probe.stderr).split('\n')[0]}`;
  console.warn(`NOTE: running as root and cannot drop to nobody (${reason}): chmod 000 cases are expected to be scanned (root reads them).`);
  return { enforcesPermissions: false, why: `root without setuid (${reason}): chmod 000 cannot bind` };
}

/** Lets the runner's user create files under `dir` (and traverse to it). */
export function handTo(runner: Runner, dir: string): void {
  chmodSync(dir, 0o755);
  if (runner.as) chownSync(dir, runner.as.uid, runner.as.gid);
}

export function massivit(runner: Runner, args: string[], env: NodeJS.ProcessEnv = {}) {
  const opts: SpawnSyncOptions = { cwd: ROOT, encoding: 'utf8', env: { ...cliEnv(), ...env }, ...(runner.as ?? {}) };
  const r = spawnSync(process.execPath, [CLI, ...args], opts);
  return { code: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}
