/**
 * The built CLI (`bin/massivit.js`), run to its end in a child process, in an environment that cannot
 * change what a test means: MASSIVIT_MODELS_DIR is emptied (a test uses only the models it names by
 * path) and no shard comes from a Slurm / Kubernetes job the suite itself may run in.
 */
import { spawnSync } from 'node:child_process';
import { CLI, ROOT } from './env.js';

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Kill a run that hangs after this many ms (then `signal` says so): for tests whose failure mode is a hang. */
  timeout?: number;
  /** Variables added to (or overriding) the test environment. */
  env?: NodeJS.ProcessEnv;
  /** The working folder (default: the repository root). */
  cwd?: string;
}

export function runMassivit(args: string[], opts: CliOptions = {}): CliRun {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? ROOT, encoding: 'utf8', timeout: opts.timeout, env: { ...cliEnv(), ...opts.env } });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** That environment, for a test that spawns the CLI itself (asynchronously, or to kill it). */
export function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, MASSIVIT_MODELS_DIR: '' };
  for (const k of Object.keys(env)) if (/^(SLURM_|JOB_COMPLETION|MASSIVIT_SHARD)/.test(k)) delete env[k];
  return env;
}

export function massivit(...args: string[]): CliRun {
  return runMassivit(args);
}
