/** Deterministic 1/N split of an image list, by a hash of each relative path (stable across machines). */
import { invalidOption } from '../contracts/errors.js';
import { RANGES } from '../contracts/ranges.js';

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
  if (!shard || shard.count < 1 || shard.count > RANGES.shardCount.max || shard.index >= shard.count) {
    throw invalidOption('--shard', `'i/N' with 0 <= i < N <= ${RANGES.shardCount.max}`, text);
  }
  return shard;
}

/**
 * The shard a scheduler assigned to this process: a Slurm array task (`--array=0-(N-1)`, or any range with a
 * step: index = (id − min) / step) or a Kubernetes Indexed Job pod. Kubernetes exports only the index
 * (JOB_COMPLETION_INDEX), not spec.completions, and the downward API cannot read it: the manifest sets
 * MASSIVIT_SHARD_COUNT (or JOB_COMPLETIONS) to the same number.
 */
export function shardFromEnv(env: NodeJS.ProcessEnv): Shard | undefined {
  if (env.SLURM_ARRAY_TASK_ID !== undefined && env.SLURM_ARRAY_TASK_COUNT !== undefined) {
    const min = Number(env.SLURM_ARRAY_TASK_MIN ?? 0);
    const step = Number(env.SLURM_ARRAY_TASK_STEP ?? 1) || 1;
    const index = (Number(env.SLURM_ARRAY_TASK_ID) - min) / step;
    const shown = `SLURM_ARRAY_TASK_ID=${env.SLURM_ARRAY_TASK_ID} (min ${min}, step ${step}, count ${env.SLURM_ARRAY_TASK_COUNT})`;
    if (!Number.isInteger(index)) throw invalidOption('the Slurm array task', 'a task of a range array such as --array=0-(N-1)', shown);
    return parseShard(`${index}/${env.SLURM_ARRAY_TASK_COUNT}`);
  }
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    const count = env.MASSIVIT_SHARD_COUNT ?? env.JOB_COMPLETIONS;
    if (count === undefined) throw invalidOption('MASSIVIT_SHARD_COUNT', 'the Indexed Job completions count (Kubernetes does not export spec.completions: set this env var to the same number)', count);
    return parseShard(`${env.JOB_COMPLETION_INDEX}/${count}`);
  }
  return undefined;
}
