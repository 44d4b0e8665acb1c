/**
 * The download cache, laid out like huggingface_hub's: `<root>/models--owner--name/blobs/<hash>` holds
 * verified files named by their sha256 (LFS) or git blob sha1, `refs/<revision>` the commit a revision
 * pointed to, and `snapshots/<commit>.json` that commit's file list, so a pull works again offline.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../contracts/atomic.js';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { errorMessage } from '../../contracts/errors.js';
import type { RepoInfo } from './client.js';
import { checkCommit, repoCacheFolder, safeRemotePath } from './paths.js';

/** `--cache-dir`, else $MASSIVIT_CACHE, else $XDG_CACHE_HOME/massivit/hub, else ~/.cache/massivit/hub. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env, override?: string): string {
  if (override) return resolve(override);
  if (env.MASSIVIT_CACHE) return resolve(env.MASSIVIT_CACHE);
  return join(env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'massivit', 'hub');
}

export class RepoCache {
  readonly dir: string;
  readonly blobsDir: string;

  constructor(root: string, readonly repo: string) {
    this.dir = join(root, repoCacheFolder(repo));
    this.blobsDir = join(this.dir, 'blobs');
  }

  /** The blob named by a verified hash (hex only, checked by the caller's FileHash parsing). */
  blobPath(hash: string): string {
    if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(hash)) throw new Error(`not a hash: ${hash}`);
    return join(this.blobsDir, hash);
  }

  private refPath(revision: string): string {
    return join(this.dir, 'refs', encodeURIComponent(revision));
  }

  /** The commit a revision resolved to when last online (a commit id resolves to itself). */
  readRef(revision: string): string | undefined {
    if (/^[0-9a-f]{40}$/.test(revision)) return revision;
    const path = this.refPath(revision);
    if (!existsSync(path)) return undefined;
    try {
      return checkCommit(readFileSync(path, 'utf8').trim());
    } catch {
      return undefined;
    }
  }

  readSnapshot(commit: string): RepoInfo | undefined {
    const path = join(this.dir, 'snapshots', `${checkCommit(commit)}.json`);
    if (!existsSync(path)) return undefined;
    try {
      const info = JSON.parse(readFileSync(path, 'utf8')) as RepoInfo;
      // The cache is ours, but it is still a file on disk: names are checked as strictly as the server's.
      for (const f of info.files) safeRemotePath(f.path);
      return { repo: this.repo, commit, files: info.files };
    } catch (err) {
      process.emitWarning(`massivit: ignoring unreadable cache snapshot ${path}: ${errorMessage(err)}`);
      return undefined;
    }
  }

  remember(revision: string, info: RepoInfo): void {
    mkdirSync(join(this.dir, 'refs'), { recursive: true });
    mkdirSync(join(this.dir, 'snapshots'), { recursive: true });
    writeFileAtomic(join(this.dir, 'snapshots', `${checkCommit(info.commit)}.json`), JSON.stringify({ commit: info.commit, files: info.files }, null, 1));
    writeFileAtomic(this.refPath(revision), info.commit);
  }
}
