/**
 * Which file rows a resumed scan drops. A file the walk cannot see now is not proof that it is gone: the
 * disk may be unmounted or the --images path mistyped, so its results are kept unless the user asks
 * (`scan --prune`). Two exceptions need no flag: a file the walk does see but this run does not select
 * (--shard, --limit: the user chose the subset), and a rename — the old path is gone and its content
 * now sits under a path of this walk, so keeping it would count the image twice.
 */
import type { Db } from './db.js';

/** Start of a scan: drop the rows of files that are in the folder but outside this run's selection. */
export function dropUnselected(db: Db, visible: Set<string>, selected: Set<string>): void {
  db.transaction(() => {
    const del = db.prepare('DELETE FROM files WHERE path = ?');
    for (const p of db.prepare('SELECT path FROM files').pluck().all() as string[]) if (visible.has(p) && !selected.has(p)) del.run(p);
  })();
}

/**
 * End of a scan (the renamed files have found their content by hash by now): drop rows of files not in
 * `visible` that were renamed, or all of them with `prune`. Returns how many unseen files were kept.
 */
export function dropUnseen(db: Db, visible: Set<string>, prune: boolean): number {
  const rows = db.prepare('SELECT path, hash FROM files').all() as { path: string; hash: string | null }[];
  const seenContent = new Set(rows.filter((r) => visible.has(r.path) && r.hash !== null).map((r) => r.hash));
  let kept = 0;
  db.transaction(() => {
    const del = db.prepare('DELETE FROM files WHERE path = ?');
    for (const r of rows) {
      if (visible.has(r.path)) continue;
      if (prune || (r.hash !== null && seenContent.has(r.hash))) del.run(r.path);
      else kept += 1;
    }
  })();
  return kept;
}
