/**
 * Remote names are data. Everything a hub server returns (file names, commit ids, ETags) ends up in a
 * local path, so each is checked here before it touches the file system.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { badModel, invalidOption } from '../../contracts/errors.js';

/** A file name from the server (`rfilename`), as a safe relative POSIX path; throws naming it otherwise. */
export function safeRemotePath(name: unknown, what = 'file name'): string {
  if (typeof name !== 'string' || name.length === 0) throw badModel(`The hub returned an invalid ${what}: ${JSON.stringify(name)}`);
  const shown = JSON.stringify(name);
  const why = unsafeReason(name);
  if (why) throw badModel(`Refusing the ${what} ${shown} from the hub: ${why}`, 'A repository file name must be a plain relative path; this server or repository is not trustworthy.');
  return name;
}

function unsafeReason(name: string): string | undefined {
  if (name.includes('\0')) return 'it contains a NUL byte';
  if (name.includes('\\')) return 'it contains a backslash';
  if (name.startsWith('/') || isAbsolute(name) || /^[A-Za-z]:/.test(name)) return 'it is an absolute path';
  if (name.length > 1024) return 'it is longer than 1024 characters';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return 'it contains control characters';
  const parts = name.split('/');
  if (parts.some((p) => p === '..')) return "it contains a '..' component (path traversal)";
  if (parts.some((p) => p === '' || p === '.')) return "it has an empty or '.' component";
  return undefined;
}

/** `root/rel`, asserting the result stays inside root (defence in depth after safeRemotePath). */
export function joinInside(root: string, rel: string): string {
  const full = resolve(root, ...safeRemotePath(rel).split('/'));
  const back = relative(resolve(root), full);
  if (back === '' || back.startsWith('..') || isAbsolute(back) || back.split(sep)[0] === '..') {
    throw badModel(`Refusing the file name ${JSON.stringify(rel)}: it resolves outside ${root}`);
  }
  return full;
}

/** `owner/name` as the hub allows it (letters, digits, `-`, `_`, `.`; no `..` or `--`). */
export function checkRepoId(repo: string): string {
  const ok = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}\/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$/.test(repo) && !repo.includes('..') && !repo.includes('--');
  if (!ok) throw invalidOption('<repo-id>', "a Hugging Face repo id like 'owner/name' or a catalogue name (massivit models catalog)", repo);
  return repo;
}

/** A revision (branch, tag, `refs/pr/N` or commit) travels URL-encoded; only reject what no git ref can be. */
export function checkRevision(rev: string): string {
  // eslint-disable-next-line no-control-regex
  if (rev.length === 0 || rev.length > 255 || /[\x00-\x20\x7f~^:?*[\\]/.test(rev) || rev.includes('..')) {
    throw invalidOption('--revision', 'a branch, tag or commit id', rev);
  }
  return rev;
}

/** The commit id the server reports; it names a cache folder, so it must be exactly 40 hex digits. */
export function checkCommit(sha: unknown): string {
  if (typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha)) throw badModel(`The hub returned an invalid commit id: ${JSON.stringify(sha)}`);
  return sha;
}

/** A local model folder name: one plain path segment. */
export function checkLocalName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$/.test(name) || name.includes('..')) {
    throw invalidOption('--name', 'a folder name of letters, digits, ".", "_", "+" or "-"', name);
  }
  return name;
}

/** The cache folder of one repo, named like huggingface_hub's (`models--owner--name`). */
export function repoCacheFolder(repo: string): string {
  return `models--${checkRepoId(repo).replace('/', '--')}`;
}
