/** Deterministic 1/N split of an image list, by a hash of each relative path (stable across machines). */
import { invalidOption } from '../errors.js';

export interface Shard {
  index: number;
  count: number;
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function inShard(rel: string, shard: Shard): boolean {
  return fnv1a(rel) % shard.count === shard.index;
}

/** Parses "i/N" (0-based i). */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const shard = m ? { index: Number(m[1]), count: Number(m[2]) } : undefined;
  if (!shard || shard.count < 1 || shard.index >= shard.count) throw invalidOption('--shard', "'i/N' with 0 <= i < N", text);
  return shard;
}

/** The shard a scheduler assigned to this process: Slurm array tasks or Kubernetes Indexed Jobs. */
export function shardFromEnv(env: NodeJS.ProcessEnv): Shard | undefined {
  if (env.SLURM_ARRAY_TASK_ID !== undefined && env.SLURM_ARRAY_TASK_COUNT !== undefined) {
    const min = Number(env.SLURM_ARRAY_TASK_MIN ?? 0);
    return parseShard(`${Number(env.SLURM_ARRAY_TASK_ID) - min}/${env.SLURM_ARRAY_TASK_COUNT}`);
  }
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    const count = env.MASSIVIT_SHARD_COUNT ?? env.JOB_COMPLETIONS;
    if (count === undefined) throw invalidOption('JOB_COMPLETIONS', 'the Indexed Job completions count (set it from spec.completions)', count);
    return parseShard(`${env.JOB_COMPLETION_INDEX}/${count}`);
  }
  return undefined;
}
