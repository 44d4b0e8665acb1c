/**
 * What a killed merge or write leaves in an output folder: `scan.sqlite.merging-<pid>` (with its -wal,
 * -shm or -journal) and `<file>.tmp-<pid>` from writeFileAtomic. Removed by the next scan or merge into
 * that folder once the process that made them is gone; never in a folder that holds something else.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const LITTER = /^(?:scan\.sqlite\.merging-(\d+)(?:-wal|-shm|-journal)?|.+\.tmp-(\d+))$/;

function running(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // someone else's live process
  }
}

/** Removes stale litter from `dir` (a scan or merge output folder); returns the names removed. */
export function removeStaleLitter(dir: string, storeFile = 'scan.sqlite'): string[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) return [];
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const litter = names.filter((n) => {
    const m = LITTER.exec(n);
    return m !== null && !running(Number(m[1] ?? m[2]));
  });
  const rest = names.filter((n) => !litter.includes(n));
  if (litter.length === 0 || (rest.length > 0 && !rest.includes(storeFile))) return [];
  for (const n of litter) rmSync(join(dir, n), { force: true });
  return litter;
}
