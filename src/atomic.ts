import { renameSync, writeFileSync } from 'node:fs';

/** Write beside the target, then rename: a reader never sees a half-written file. */
export function writeFileAtomic(path: string, text: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
